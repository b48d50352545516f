import { createBackgroundWork } from "../../src/background";
import { createLogger } from "../../src/logger";

const logger = createLogger({ level: "silent" });

test("work starts after the microtasks of the request that started it, so its answer is not held back", async () => {
  const background = createBackgroundWork(logger);
  const order: string[] = [];
  background.run(async () => {
    order.push("work");
  }, () => {});
  // What a request does after starting the work, up to sending its answer, runs as microtasks.
  await Promise.resolve();
  await Promise.resolve();
  order.push("answer");
  await background.settle(1_000);
  expect(order).toEqual(["answer", "work"]);
});

test("settle waits for work started but not begun, and a failure goes to its handler", async () => {
  const background = createBackgroundWork(logger);
  const failures: unknown[] = [];
  let done = false;
  background.run(async () => {
    done = true;
  }, () => {});
  background.run(async () => {
    throw new Error("mail server down");
  }, (error) => failures.push(error));
  await background.settle(1_000);
  expect(done).toBe(true);
  expect(failures).toEqual([new Error("mail server down")]);
});

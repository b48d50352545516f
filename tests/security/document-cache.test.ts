import { createTestDatabase, type TestDatabase } from "../helpers/databases";
import { startServerProcess, type ServerProcess } from "../helpers/server-process";

// Apollo keeps each parsed operation for its next use. Distinct operations padded with a
// comment (which no limit counts) must not pile up: the compiled server gets a heap of 96 MB,
// as the image caps it at 128, and is sent 1,000 operations of 95 KB each.
const HEAP_MB = 96;
const REQUESTS = 1_000;
const PADDING = "x".repeat(95_000);

let database: TestDatabase;
let server: ServerProcess;
beforeAll(async () => {
  // Shared: a server process opens it (embedded, a directory it finds migrated).
  database = await createTestDatabase({ shared: true });
  server = await startServerProcess({}, database, [`--max-old-space-size=${HEAP_MB}`]);
}, 120_000);
afterAll(async () => {
  server.child.kill("SIGKILL");
  await server.exited;
  await database.drop();
});

const padded = (i: number) =>
  fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: `{ __typename } # ${i} ${PADDING}` }),
  }).then(
    (res) => res.status,
    () => "failed",
  );

test(`${REQUESTS} distinct operations of 95 KB leave a ${HEAP_MB} MB heap standing`, async () => {
  const statuses: Array<number | string> = [];
  for (let i = 0; i < REQUESTS; i += 10) statuses.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => padded(i + j)))));
  expect(statuses.filter((status) => status !== 200)).toEqual([]);
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect(server.output()).not.toMatch(/heap out of memory/);
}, 120_000);

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { removeEmbeddedImage, writeEmbeddedImage } from "./databases";

/** One id per `npm test` run: every database and Redis key prefix of the run carries it. */
export default async function globalSetup(): Promise<void> {
  process.env.AUTH_TEST_RUN_ID ??= `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  // Tests that run the compiled server or CLI (shutdown, create-admin) share one build,
  // made here once: two test files compiling into dist/ at the same time could read each other's half-written files.
  // The compiler runs in its own process while this one makes the embedded image. Both are
  // waited for: jest runs no global teardown after a failed setup, so this one removes the image.
  const [build, image] = await Promise.allSettled([
    promisify(execFile)("npm", ["run", "build:server", "--silent"], { cwd: path.join(__dirname, "../..") }),
    process.env.TEST_DATABASE_URL ? undefined : writeEmbeddedImage(),
  ]);
  if (build.status === "rejected" || image.status === "rejected") removeEmbeddedImage();
  if (build.status === "rejected") {
    const { stdout = "", stderr = "" } = build.reason as { stdout?: string; stderr?: string };
    throw new Error(`npm run build:server failed:\n${stdout}${stderr}`, { cause: build.reason });
  }
  if (image.status === "rejected") throw image.reason;
}

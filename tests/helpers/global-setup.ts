import { randomBytes } from "node:crypto";

/** One id per `npm test` run: every database and Redis key prefix of the run carries it. */
export default function globalSetup(): void {
  process.env.AUTH_TEST_RUN_ID ??= `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

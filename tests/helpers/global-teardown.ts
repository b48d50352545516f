import { dropDatabases } from "./databases";

/** Drops whatever databases of this run a crashed test file left behind. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) await dropDatabases(() => true);
}

import postgres from "postgres";
import { captureLogs, type CapturedLogs } from "./log-capture";
import { startTestApp, type TestApp } from "./test-app";

/**
 * For tests that need a PostgreSQL server (two transactions at once, a relay in front of it,
 * several instances on one database): skipped on the embedded database, which runs in-process,
 * one statement at a time. (Not in databases.ts: the global setup, outside jest's globals, loads that.)
 */
export const testWithPostgres = process.env.TEST_DATABASE_URL ? test : test.skip;
export const describeWithPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

/**
 * An app whose statements PostgreSQL cancels after a second (DATABASE_STATEMENT_TIMEOUT=1), its
 * error log, and a connection of the test's own to its database, to hold rows locked meanwhile.
 */
export async function startStuckApp(): Promise<{ app: TestApp; logs: CapturedLogs; sql: postgres.Sql; close(): Promise<void> }> {
  const logs = captureLogs("error");
  const app = await startTestApp({ DATABASE_STATEMENT_TIMEOUT: "1" }, { logger: logs.logger });
  const sql = postgres(app.app.config.database.url!, { max: 1 });
  return {
    app,
    logs,
    sql,
    async close() {
      await sql.end();
      await app.close();
    },
  };
}

/**
 * For tests that need a PostgreSQL server (two transactions at once, a relay in front of it,
 * several instances on one database): skipped on the embedded database, which runs in-process,
 * one statement at a time. (Not in databases.ts: the global setup, outside jest's globals, loads that.)
 */
export const testWithPostgres = process.env.TEST_DATABASE_URL ? test : test.skip;
export const describeWithPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

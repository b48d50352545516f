import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** Names every database and key prefix of one test run, so concurrent runs never meet. */
export const RUN_PREFIX = "auth_test_";

export function runId(): string {
  const id = process.env.AUTH_TEST_RUN_ID;
  if (!id) throw new Error("AUTH_TEST_RUN_ID is set by tests/helpers/global-setup.ts");
  return id;
}

function adminUrl(): string {
  return process.env.TEST_DATABASE_URL!;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface TestDatabase {
  /** A postgres:// URL, or undefined for the embedded database. */
  url: string | undefined;
  drop(): Promise<void>;
}

/** A fresh, empty database of its own: on TEST_DATABASE_URL's server when set, else in memory. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!process.env.TEST_DATABASE_URL) return { url: undefined, drop: async () => {} };
  const name = `${RUN_PREFIX}${runId()}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl(), name),
    drop: () => dropDatabases((existing) => existing === name),
  };
}

/** Drops this run's databases that match; used per file and once more at the end of the run. */
export async function dropDatabases(matches: (name: string) => boolean): Promise<void> {
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`${RUN_PREFIX}${runId()}%`}`;
    for (const { datname } of rows.filter((row) => matches(row.datname))) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    }
  } finally {
    await admin.end();
  }
}

import path from "node:path";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgresDb } from "drizzle-orm/postgres-js/migrator";
import { migrate as migratePgliteDb } from "drizzle-orm/pglite/migrator";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import postgres from "postgres";

// src/db and dist/db are both two levels below the project root.
export const MIGRATIONS_FOLDER = path.resolve(__dirname, "../../drizzle");

// Any fixed number shared by every instance; it names the advisory lock below.
const MIGRATION_LOCK = 726_912_401;

/**
 * Several instances may start at once: one session-level advisory lock on a dedicated
 * connection makes them apply the migrations one after another instead of racing.
 */
export async function migratePostgres(url: string): Promise<void> {
  const client = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgresDb(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

export async function migratePglite(db: PgliteDatabase<Record<string, unknown>>): Promise<void> {
  await migratePgliteDb(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

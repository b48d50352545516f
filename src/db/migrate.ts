import path from "node:path";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgresDb } from "drizzle-orm/postgres-js/migrator";
import { migrate as migratePgliteDb } from "drizzle-orm/pglite/migrator";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import postgres from "postgres";

// src/db and dist/db are both two levels below the project root.
export const MIGRATIONS_FOLDER = path.resolve(__dirname, "../../drizzle");

// Any fixed number shared by every instance; it names the advisory lock below.
export const MIGRATION_LOCK = 726_912_401;

/** Another session holds the migration lock: another instance is applying the migrations, or one that vanished still holds it. */
export class MigrationLockHeld extends Error {
  constructor() {
    super("another instance holds the migration lock (it is applying the migrations)");
  }
}

/**
 * Several instances may start at once: one session-level advisory lock on a dedicated
 * connection makes them apply the migrations one after another instead of racing. A one-shot
 * job waits for the lock; a starting service does not (`wait: false`): it would wait without
 * a word, before it listens or heeds a signal, for as long as another session held the lock.
 * It is refused at once instead (MigrationLockHeld) and tries again in the background.
 */
export async function migratePostgres(url: string, options: { wait: boolean }): Promise<void> {
  const client = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    // A migration may rewrite a large table: no statement timeout the role carries cuts it
    // short (README suggests one on the role behind PgBouncer), to be retried again and again.
    await client`set statement_timeout = 0`;
    if (options.wait) await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    else if (!(await client`select pg_try_advisory_lock(${MIGRATION_LOCK}) as locked`)[0]?.locked) throw new MigrationLockHeld();
    await migratePostgresDb(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

export async function migratePglite(db: PgliteDatabase<Record<string, unknown>>): Promise<void> {
  await migratePgliteDb(db, { migrationsFolder: MIGRATIONS_FOLDER });
}

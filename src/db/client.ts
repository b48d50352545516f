import path from "node:path";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import lockfile from "proper-lockfile";
import { ConfigError } from "../config";
import { ownDataDir } from "../data-dir";
import { migratePglite, migratePostgres } from "./migrate";
import * as schema from "./schema";
import { watchedPool } from "./watched-pool";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** How long the embedded database's lock outlives a process that died holding it. */
const STALE_MS = 10_000;

export interface Database {
  readonly db: Db;
  /** "postgres" for a server reached through DATABASE_URL, "pglite" for the embedded one. */
  readonly kind: "postgres" | "pglite";
  /**
   * Applies the migrations in drizzle/. On PostgreSQL, `wait: false` refuses at once
   * (MigrationLockHeld) while another session applies them, instead of waiting its turn.
   */
  migrate(options?: { wait: boolean }): Promise<void>;
  /** True once migrate() has succeeded: until then the tables may be missing or out of date. */
  readonly isMigrated: boolean;
  /** Resolves when the database answers a query and its migrations are applied. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  /** Pool size for postgres.js. */
  maxConnections?: number;
  /**
   * PostgreSQL cancels a statement that runs longer (statement_timeout, sent as a startup
   * parameter of each of the pool's connections; migrations have a connection of their own
   * and no limit). 0 or unset sends none. It also bounds how long the pool waits for an
   * answer before it gives its connections up for lost (db/watched-pool.ts).
   * The embedded database serves one statement at a time in this process, so it has none.
   */
  statementTimeoutMs?: number;
  /**
   * Called with every SQL statement sent and its parameters: for trace logging, which leaves
   * the parameters out (they hold password and token hashes), and for tests.
   */
  onQuery?: (sql: string, parameters: readonly unknown[]) => void;
  /**
   * For an in-memory embedded database: the data directory to start from, as PGlite's
   * dumpDataDir() wrote it, instead of an empty cluster. Creating a cluster costs PGlite
   * seconds; the tests start each app from one made once with the migrations applied.
   */
  embeddedImage?: Blob;
  /** The embedded database's lock on DATA_DIR went to another process; by default this process exits. */
  onLockLost?: (error: Error) => void;
  /**
   * PostgreSQL left a query unanswered for `waitedMs`, past its statement timeout: the pool's
   * connections were given up for lost and new ones are opened (db/watched-pool.ts).
   */
  onConnectionsLost?: (waitedMs: number) => void;
}

/** The rows of db.execute(): postgres.js answers an array of them, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

function queryLogger(onQuery: DatabaseOptions["onQuery"]) {
  return onQuery ? { logQuery: (query: string, parameters: unknown[]) => onQuery(query, parameters) } : undefined;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url ? openPostgres({ ...options, url: options.url }) : openPglite(options);
}

/** The Database of either driver: they differ only in how they migrate and close. */
function databaseOf(db: Db, kind: Database["kind"], driver: { migrate(options: { wait: boolean }): Promise<void>; close(): Promise<void> }): Database {
  let isMigrated = false;
  return {
    db,
    kind,
    async migrate(options = { wait: true }) {
      await driver.migrate(options);
      isMigrated = true;
    },
    get isMigrated() {
      return isMigrated;
    },
    async ping() {
      await db.execute(sql`select 1`);
      if (!isMigrated) throw new Error("the database answers, but its migrations are not applied yet");
    },
    close: () => driver.close(),
  };
}

/**
 * drizzle-orm runs every statement not built with .prepare(name) as `prepare: false`
 * (drizzle-orm#6096), and postgres.js sends such a statement, when it has parameters, in two
 * round trips: Parse and Describe, a wait for the parameter types, then Bind and Execute.
 * Prepared, it costs one round trip from its second run on a connection; a session's start at
 * sign-in and a refresh rotation are such statements. Their text never carries a value (values
 * are parameters), so each connection holds a few dozen statements, not one per request.
 * (A transaction's statements go through the client postgres.js hands it, which this does not
 * wrap: the service runs them only for rare writes, a password change and a deactivation.)
 */
function preparingEveryStatement(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== "unsafe") return Reflect.get(target, property, receiver);
      return (query: string, parameters?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
        target.unsafe(query, parameters, { ...options, prepare: true });
    },
  });
}

function openPostgres(options: DatabaseOptions & { url: string }): Database {
  const { url, statementTimeoutMs = 0 } = options;
  const pool = watchedPool(
    () =>
      postgres(url, {
        max: options.maxConnections ?? 10,
        connect_timeout: 5,
        idle_timeout: 60,
        onnotice: () => {},
        connection: { application_name: "auth-service", ...(statementTimeoutMs && { statement_timeout: statementTimeoutMs }) },
      }),
    { statementTimeoutMs, onLost: options.onConnectionsLost ?? (() => {}) },
  );
  const db = drizzlePostgres(preparingEveryStatement(pool.sql), { schema, logger: queryLogger(options.onQuery) }) as unknown as Db;
  return databaseOf(db, "postgres", {
    migrate: (options) => migratePostgres(url, options),
    close: () => pool.close(),
  });
}

/**
 * Holds the embedded database's directory for this process. PGlite keeps no lock of its own,
 * and a second process on the same files (create-admin while the service runs) lost its
 * writes, or the service's. proper-lockfile's lock is a directory made atomically, whose
 * mtime the holder refreshes: one left by a process that died is stale after STALE_MS, and
 * no process id is involved, so it holds across containers sharing a volume. Returns its release.
 *
 * proper-lockfile refreshes a lock it still finds as it left it, however late (a suspended
 * laptop, a paused container). It calls it compromised only when another process has been at
 * it: the lock taken over as stale (no longer this process's mtime), or taken over and released
 * (gone). Either way another process has written the database meanwhile, and this one's PGlite
 * would write over it from what it holds: `onLost` is called, and by default stops this process.
 * (Taking the lock again when it was gone let exactly that happen.)
 */
function lockDataDir(dataDir: string, onLost: (error: Error) => void): () => void {
  const lockfilePath = path.join(dataDir, "pglite.lock");
  let release: () => void;
  try {
    release = lockfile.lockSync(dataDir, {
      lockfilePath,
      stale: STALE_MS,
      onCompromised: (error: Error) => onLost(new Error(`the lock on DATA_DIR ${dataDir} was taken by another process (${error.message})`, { cause: error })),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    throw new ConfigError(
      `DATA_DIR ${dataDir} is in use by another process: the embedded database takes one process at a time. Stop it first, or use PostgreSQL (DATABASE_URL). (A process that died leaves ${lockfilePath}, taken over ${STALE_MS / 1000} s later.)`,
    );
  }
  return () => {
    try {
      release();
    } catch (error) {
      // Lost to another process (above): nothing to release.
      if ((error as NodeJS.ErrnoException).code !== "ERELEASED") throw error;
    }
  };
}

/** Two processes writing one embedded database lose each other's writes: this one stops. */
function stopOnLostLock(error: Error): void {
  console.error(`${error.message}: stopping, so that only one process writes the embedded database`);
  process.exit(1);
}

/** Where under DATA_DIR the embedded cluster lives (the rest of DATA_DIR: its lock and the generated secret). */
export const embeddedClusterDir = (dataDir: string) => path.join(dataDir, "pglite");

/**
 * How PGlite runs the embedded cluster. PostgreSQL runs in this process, so its shared buffers
 * are the service's own memory, set up at every start: PostgreSQL's 128 MB made a start take
 * ~0.4 s longer and the process ~110 MB larger once they filled, caching pages that already sit
 * in memory (memory://) or in the OS's file cache. And a new cluster's WAL comes in 1 MB
 * segments instead of 16 MB ones, each written whole when it begins (and, in memory, held).
 */
export const EMBEDDED_PGLITE_OPTIONS: Readonly<PGliteOptions> = {
  startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"],
  initDbStartParams: ["--wal-segsize=1"],
  // The admin search's trigram indexes (drizzle/0003): a cluster that has them needs the extension loaded.
  extensions: { pg_trgm },
};

function openPglite(options: DatabaseOptions): Database {
  const { dataDir } = options;
  // "memory://" keeps the database in memory (tests); any other value is a directory.
  const inMemory = dataDir.startsWith("memory://");
  if (options.embeddedImage && !inMemory) throw new Error("an embedded database image is only for DATA_DIR=memory://");
  if (!inMemory) ownDataDir(dataDir);
  const unlock = inMemory ? () => {} : lockDataDir(dataDir, options.onLockLost ?? stopOnLostLock);
  let client: PGlite;
  try {
    client = new PGlite(inMemory ? dataDir : embeddedClusterDir(dataDir), { ...EMBEDDED_PGLITE_OPTIONS, loadDataDir: options.embeddedImage });
  } catch (error) {
    unlock();
    throw error;
  }
  const pglite = drizzlePglite(client, { schema, logger: queryLogger(options.onQuery) });
  const db = pglite as unknown as Db;
  return databaseOf(db, "pglite", {
    migrate: () => migratePglite(pglite),
    close: async () => {
      try {
        if (!client.closed) await client.close();
      } finally {
        unlock();
      }
    },
  });
}

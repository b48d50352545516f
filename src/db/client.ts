import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { migratePglite, migratePostgres } from "./migrate";
import * as schema from "./schema";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  /** "postgres" for a server reached through DATABASE_URL, "pglite" for the embedded one. */
  readonly kind: "postgres" | "pglite";
  /** Applies the migrations in drizzle/. */
  migrate(): Promise<void>;
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
  /** Called with every SQL statement sent (trace logging, query counting in tests). */
  onQuery?: (sql: string) => void;
  /**
   * For an in-memory embedded database: the data directory to start from, as PGlite's
   * dumpDataDir() wrote it, instead of an empty cluster. Creating a cluster costs PGlite
   * seconds; the tests start each app from one made once with the migrations applied.
   */
  embeddedImage?: Blob;
}

/** The rows of db.execute(): postgres.js answers an array of them, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

function queryLogger(onQuery: DatabaseOptions["onQuery"]) {
  return onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url ? openPostgres({ ...options, url: options.url }) : openPglite(options);
}

/** The Database of either driver: they differ only in how they migrate and close. */
function databaseOf(db: Db, kind: Database["kind"], driver: { migrate(): Promise<void>; close(): Promise<void> }): Database {
  let isMigrated = false;
  return {
    db,
    kind,
    async migrate() {
      await driver.migrate();
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

function openPostgres(options: DatabaseOptions & { url: string }): Database {
  const { url } = options;
  const client = postgres(url, { max: options.maxConnections ?? 10, connect_timeout: 5, idle_timeout: 60, onnotice: () => {} });
  const db = drizzlePostgres(client, { schema, logger: queryLogger(options.onQuery) }) as unknown as Db;
  return databaseOf(db, "postgres", {
    migrate: () => migratePostgres(url),
    close: () => client.end({ timeout: 5 }),
  });
}

function openPglite(options: DatabaseOptions): Database {
  const { dataDir } = options;
  // "memory://" keeps the database in memory (tests); any other value is a directory.
  const inMemory = dataDir.startsWith("memory://");
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  if (options.embeddedImage && !inMemory) throw new Error("an embedded database image is only for DATA_DIR=memory://");
  const client = new PGlite(inMemory ? dataDir : `${dataDir.replace(/\/$/, "")}/pglite`, { loadDataDir: options.embeddedImage });
  const db = drizzlePglite(client, { schema, logger: queryLogger(options.onQuery) }) as unknown as Db;
  return databaseOf(db, "pglite", {
    migrate: () => migratePglite(db),
    close: async () => {
      if (!client.closed) await client.close();
    },
  });
}

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { EMBEDDED_PGLITE_OPTIONS } from "../../src/db/client";
import { MIGRATIONS_FOLDER } from "../../src/db/migrate";
import { createTestDatabase, type TestDatabase } from "../helpers/databases";

// drizzle/0002 rewrites addresses stored before they were compared in NFC.

/** drizzle/ as it was before 0002: the same files, a journal that stops at 0001. */
function migrationsBefore0002(): string {
  const folder = mkdtempSync(path.join(tmpdir(), "auth-migrations-"));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalFile = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((entry) => entry.tag < "0002");
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

interface Connection {
  migrateTo(folder: string): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function connect(database: TestDatabase): Promise<Connection> {
  if (!database.url) {
    const client = new PGlite(EMBEDDED_PGLITE_OPTIONS);
    const db = drizzlePglite(client);
    return {
      migrateTo: (folder) => migratePglite(db, { migrationsFolder: folder }),
      query: async (sql, params) => (await client.query<Record<string, unknown>>(sql, params)).rows,
      close: () => client.close(),
    };
  }
  const client = postgres(database.url, { max: 1, onnotice: () => {} });
  const db = drizzlePostgres(client);
  return {
    migrateTo: (folder) => migratePostgres(db, { migrationsFolder: folder }),
    query: (sql, params) => client.unsafe(sql, params as never[]),
    close: () => client.end(),
  };
}

let database: TestDatabase;
let connection: Connection;
let before0002: string;
beforeAll(async () => {
  database = await createTestDatabase();
  connection = await connect(database);
  before0002 = migrationsBefore0002();
}, 60_000);
afterAll(async () => {
  await connection?.close();
  await database?.drop();
  rmSync(before0002, { recursive: true, force: true });
});

test("addresses stored in another Unicode form become NFC, unless that address is already an account's", async () => {
  await connection.migrateTo(before0002);
  const nfd = (text: string) => text.normalize("NFD");
  const insert = (email: string, createdAt: string) =>
    connection.query(`insert into users (email, password_hash, created_at) values ($1, 'x', $2) returning id`, [email, createdAt]).then((rows) => rows[0]!.id as string);
  const alone = await insert(nfd("café@example.com"), "2030-01-01T00:00:00Z");
  const taken = await insert(nfd("zoë@example.com"), "2030-01-02T00:00:00Z");
  const holder = await insert("zoë@example.com", "2030-01-03T00:00:00Z");
  const plain = await insert("ada@example.com", "2030-01-04T00:00:00Z");

  await connection.migrateTo(MIGRATIONS_FOLDER);
  const emails = Object.fromEntries((await connection.query(`select id, email from users`)).map((row) => [row.id, row.email]));
  expect(emails).toEqual({
    [alone]: "café@example.com",
    [taken]: nfd("zoë@example.com"),
    [holder]: "zoë@example.com",
    [plain]: "ada@example.com",
  });
  expect(emails[alone]).toBe("café@example.com".normalize("NFC"));
});

import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { embeddedClusterDir, openDatabase, rowsOf } from "../../src/db/client";
import { createTestDatabase } from "../helpers/databases";
import { register, startTestApp, STRONG_PASSWORD } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";

// Always the embedded database, even in the run against real servers: this is about DATA_DIR.
// The tests below this one use no server at all (the directory, its lock, the embedded
// database): the run against real servers would only repeat them.
const withoutServers = process.env.TEST_DATABASE_URL ? test.skip : test;

test("a restarted embedded service keeps its accounts, sessions and signing secret", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "auth-embedded-"));
  const database = { url: undefined, dataDir, drop: async () => {} };
  try {
    const first = await startTestApp({}, { database });
    const auth = await register(first);
    await first.close();

    const second = await startTestApp({}, { database });
    try {
      // The old access token still verifies: the generated secret was kept under DATA_DIR.
      expect((await second.gql(`{ me { id } }`, {}, { token: auth.accessToken })).data?.me.id).toBe(auth.user.id);
      const login = await second.gql(`mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { user { id } } }`, {
        e: auth.user.email,
        p: STRONG_PASSWORD,
      });
      expect(login.data?.login.user.id).toBe(auth.user.id);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

withoutServers("DATA_DIR is readable by the service's user only, whether the service made it or found it", async () => {
  const parent = mkdtempSync(path.join(tmpdir(), "auth-embedded-"));
  try {
    const made = path.join(parent, "made", "data");
    const found = path.join(parent, "found");
    mkdirSync(found);
    chmodSync(found, 0o755);
    for (const dataDir of [made, found]) {
      // The database and the generated secret: the two that write there.
      const app = await startTestApp({}, { database: { url: undefined, dataDir, drop: async () => {} } });
      await app.close();
      expect({ dataDir, mode: statSync(dataDir).mode & 0o777 }).toEqual({ dataDir, mode: 0o700 });
      expect(statSync(path.join(dataDir, "jwt-secret")).mode & 0o077).toBe(0);
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

withoutServers("the embedded database runs with 16 MB of shared buffers, in a cluster it makes and in one made before with PGlite's defaults", async () => {
  const parent = mkdtempSync(path.join(tmpdir(), "auth-embedded-"));
  const settings = async (dataDir: string) => {
    const database = openDatabase({ dataDir });
    try {
      await database.migrate();
      const [row] = rowsOf<{ buffers: string; segment: string }>(
        await database.db.execute(sql`select current_setting('shared_buffers') as buffers, current_setting('wal_segment_size') as segment`),
      );
      return row;
    } finally {
      await database.close();
    }
  };
  try {
    // A new cluster's WAL comes in 1 MB segments.
    expect(await settings(path.join(parent, "new"))).toEqual({ buffers: "16MB", segment: "1MB" });
    // A cluster of PGlite's own defaults (an earlier release of the service made it so) opens with the smaller buffers.
    const earlier = path.join(parent, "earlier");
    mkdirSync(earlier);
    const pglite = new PGlite(embeddedClusterDir(earlier));
    await pglite.waitReady;
    await pglite.close();
    expect(await settings(earlier)).toEqual({ buffers: "16MB", segment: "16MB" });
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}, 60_000);

// The tests of the lock start from a copy of the run's migrated cluster: creating one is what
// the tests above are about, and takes seconds.
const execFileAsync = promisify(execFile);
/** `node dist/cli/migrate.js` on that DATA_DIR, in a process of its own (dist/ is built by the global setup). */
const migrateIn = (dataDir: string) =>
  execFileAsync(process.execPath, ["dist/cli/migrate.js"], { cwd: path.resolve(__dirname, "../.."), env: { PATH: process.env.PATH, NODE_ENV: "development", DATA_DIR: dataDir } }).then(
    () => ({ code: 0, stderr: "" }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );

withoutServers("a second process is refused the embedded database while one holds it, and gets it once that one closes", async () => {
  const { dataDir, drop } = await createTestDatabase({ shared: true });
  try {
    const held = openDatabase({ dataDir });
    await held.migrate();
    const refused = await migrateIn(dataDir);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `DATA_DIR ${dataDir} is in use by another process: the embedded database takes one process at a time. Stop it first, or use PostgreSQL (DATABASE_URL). (A process that died leaves ${dataDir}/pglite.lock, taken over 10 s later.)`,
    );
    // One process cannot open it twice either: the second close would end the first one's hold.
    expect(() => openDatabase({ dataDir })).toThrow(/is in use by another process/);
    await held.close();
    expect(await migrateIn(dataDir)).toEqual({ code: 0, stderr: "" });
  } finally {
    await drop();
  }
}, 60_000);

withoutServers("the lock of a process that died is taken over once it has gone stale", async () => {
  const { dataDir, drop } = await createTestDatabase({ shared: true });
  try {
    // What a killed holder leaves: the lock, no longer refreshed.
    const lock = path.join(dataDir, "pglite.lock");
    mkdirSync(lock);
    expect(() => openDatabase({ dataDir })).toThrow(/is in use by another process/);
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(lock, aMinuteAgo, aMinuteAgo);
    const database = openDatabase({ dataDir });
    await database.migrate();
    expect(existsSync(lock)).toBe(true);
    await database.close();
    expect(existsSync(lock)).toBe(false);
  } finally {
    await drop();
  }
}, 60_000);

withoutServers.each([
  ["holds it now", true],
  ["took it and gave it up (create-admin run while this one was paused)", false],
])("a process whose lock another process took while it could not refresh it (paused, suspended) stops writing: the other %s", async (_label, stillHeld) => {
  const { dataDir, drop } = await createTestDatabase({ shared: true });
  const lost: Error[] = [];
  const database = openDatabase({ dataDir, onLockLost: (error) => lost.push(error) });
  try {
    await database.migrate();
    // What another process does once this one's lock looks stale: it takes the lock afresh.
    const lock = path.join(dataDir, "pglite.lock");
    rmSync(lock, { recursive: true });
    if (stillHeld) mkdirSync(lock);
    // The holder refreshes every STALE_MS / 2 (5 s) and finds the lock no longer its own.
    await waitFor(async () => expect(lost).toHaveLength(1), 10_000);
    expect(lost[0]!.message).toMatch(/lock on DATA_DIR .* was taken by another process/);
  } finally {
    await database.close();
    await drop();
  }
}, 20_000);

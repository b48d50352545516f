import postgres from "postgres";
import { MIGRATION_LOCK } from "../../src/db/migrate";
import { LOST_AFTER_TIMEOUT_MS, watchedPool } from "../../src/db/watched-pool";
import { captureLogs } from "../helpers/log-capture";
import { createTestDatabase, type TestDatabase } from "../helpers/databases";
import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { relayPostgres, type TcpRelay } from "../helpers/tcp-relay";
import { AUTH_FIELDS, startTestApp, STRONG_PASSWORD, uniqueEmail, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";
import { describeWithPostgres } from "../helpers/with-postgres";

const REGISTER = `mutation($email: String!, $password: String!) { register(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { accessToken } }`;

// PostgreSQL is taken away by stopping a TCP relay the service reaches it through, so this
// needs a real server: TEST_DATABASE_URL. The embedded database lives inside the process
// and cannot go down on its own, so the suite is skipped without one.
describeWithPostgres("PostgreSQL outage", () => {
  const logs = captureLogs();
  let database: TestDatabase;
  let relay: TcpRelay;
  let t: TestApp;

  const readiness = async () => {
    const res = await fetch(`${t.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
  };
  const registered = async () => {
    const res = await t.gql(REGISTER, { email: uniqueEmail(), password: STRONG_PASSWORD });
    if (!res.data?.register) throw new Error(`not registered: ${JSON.stringify(res.errors)}`);
    return res.data.register as { accessToken: string; user: { email: string } };
  };
  const expectCleanFastFailure = async (call: () => Promise<GraphQLResponse>) => {
    const started = Date.now();
    const res = await call();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.errors?.[0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(JSON.stringify(res.errors)).not.toMatch(/postgres|ECONNREFUSED|127\.0\.0\.1|select|insert/i);
    return res;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const relayed = await relayPostgres(database.url!, { listening: false });
    relay = relayed.relay;
    t = await startTestApp({}, { database: { ...database, url: relayed.url }, logger: logs.logger });
  });
  afterAll(async () => {
    await t?.close();
    await relay?.stop();
    await database?.drop();
  });

  test("down at start: the service starts, /readyz names the database, operations are refused at once", async () => {
    expect(await readiness()).toMatchObject({ status: 503, body: { status: "unavailable", checks: { database: "unavailable" } } });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const refused = await expectCleanFastFailure(() => t.gql(REGISTER, { email: uniqueEmail(), password: STRONG_PASSWORD }));
    expect(refused.status).toBe(503);
    // What needs no database still answers: a gateway can compose the supergraph meanwhile.
    expect((await t.gql(`{ __typename }`)).data).toEqual({ __typename: "Query" });
    expect((await t.gql(`{ ...Root } fragment Root on Query { __typename }`)).data).toEqual({ __typename: "Query" });
    expect((await t.gql(`{ ... on Query { __typename } }`)).data).toEqual({ __typename: "Query" });
  });

  test("the database comes back: the migrations are applied in the background and the service is ready", async () => {
    await relay.restart();
    await waitFor(async () => expect((await readiness()).status).toBe(200), 15_000);
    await registered();
  });

  test("hung rather than down: /readyz answers 503 naming the database within its check's timeout, and recovers", async () => {
    await registered();
    relay.freeze();
    try {
      expect(await readiness()).toMatchObject({ status: 503, body: { checks: { database: "unavailable" } } });
    } finally {
      relay.thaw();
    }
    await waitFor(async () => expect((await readiness()).status).toBe(200), 10_000);
  });

  test("down while running: requests fail fast with a clean error, the process stays up, and it recovers", async () => {
    const user = await registered();
    await relay.stop();

    await expectCleanFastFailure(() => t.gql(LOGIN, { email: user.user.email, password: STRONG_PASSWORD }));
    await expectCleanFastFailure(() => t.gql(`{ me { id } }`, {}, { token: user.accessToken }));
    await expectCleanFastFailure(() => t.gql(REGISTER, { email: uniqueEmail(), password: STRONG_PASSWORD }));
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(await readiness()).toMatchObject({ status: 503, body: { checks: { database: "unavailable" } } });
    expect(sampleValue(await fetchMetrics(t.url), "auth_database_errors_total")).toBeGreaterThanOrEqual(3);
    // The failed queries are logged, without their parameters (a new account's password hash).
    expect(logs.text()).toContain("Failed query");
    expect(logs.text()).not.toMatch(/\$argon2id\$/);

    await relay.restart();
    await waitFor(async () => expect((await t.gql(LOGIN, { email: user.user.email, password: STRONG_PASSWORD })).data?.login.accessToken).toEqual(expect.any(String)), 10_000);
  });
});

describeWithPostgres("PostgreSQL lost on its open connections", () => {
  test("the pool that replaces a lost one reads and writes values as the lost one did", async () => {
    const database = await createTestDatabase();
    const { relay, url } = await relayPostgres(database.url!);
    const lost: number[] = [];
    const pool = watchedPool(() => postgres(url, { max: 1, onnotice: () => {} }), { statementTimeoutMs: 200, marginMs: 0, onLost: (waitedMs) => lost.push(waitedMs) });
    try {
      // As drizzle-orm does to the pool it is given: its own parsing of some types.
      pool.sql.options.parsers[1184] = (value: string) => `as sent: ${value}`;
      pool.sql.options.serializers[25] = (value: string) => `as given: ${value}`;
      await pool.sql.unsafe("select 1");

      relay.strand();
      await expect(pool.sql.unsafe("select 2")).rejects.toMatchObject({ code: "CONNECTION_DESTROYED" });
      expect(lost).toEqual([expect.any(Number)]);
      const [row] = await pool.sql.unsafe("select '2026-12-03 10:00:00+00'::timestamptz as at");
      expect(row).toEqual({ at: "as sent: 2026-12-03 10:00:00+00" });
      const [text] = await pool.sql.unsafe("select $1::text as value", ["a"]);
      expect(text).toEqual({ value: "as given: a" });
    } finally {
      await pool.close();
      await relay.stop();
      await database.drop();
    }
  });

  test("a query unanswered past the statement timeout fails, and new connections serve what follows while the lost ones stay silent", async () => {
    const logs = captureLogs();
    const database = await createTestDatabase();
    const { relay, url } = await relayPostgres(database.url!);
    let t: TestApp | undefined;
    try {
      t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT: "1" }, { database: { ...database, url }, logger: logs.logger });
      const registered = await t.gql(REGISTER, { email: uniqueEmail(), password: STRONG_PASSWORD });
      const token = registered.data?.register.accessToken as string;
      expect(token).toEqual(expect.any(String));

      // The server's answers stop reaching the service's connections, which stay open.
      relay.strand();
      const lost = await t.gql(`{ me { id } }`, {}, { token });
      expect(lost.errors?.[0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
      const given = logs.records().filter((record) => /connections were given up/.test(record.msg));
      expect(given).toEqual([expect.objectContaining({ level: 50 })]);
      // It waited past the statement timeout (1 s) and the margin: no slow statement is taken for a lost server.
      expect(given[0]!.waitedMs).toBeGreaterThan(1_000 + LOST_AFTER_TIMEOUT_MS);
      expect(sampleValue(await fetchMetrics(t.url), "auth_database_connections_lost_total")).toBe(1);

      // New connections serve the account as before (the parsing is the test above's).
      const me = await t.gql(`{ me { id createdAt } }`, {}, { token });
      expect(me.data?.me).toEqual({ id: registered.data?.register.user.id, createdAt: registered.data?.register.user.createdAt });
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    } finally {
      await t?.close();
      await relay.stop();
      await database.drop();
    }
  }, 30_000);
});

describeWithPostgres("the migration lock held by another session", () => {
  test("the service starts without waiting for it, is not ready and says why, and is ready once it is free", async () => {
    const database = await createTestDatabase();
    const holder = postgres(database.url!, { max: 1, onnotice: () => {} });
    const logs = captureLogs();
    let starting: Promise<TestApp> | undefined;
    try {
      // Another instance applying migrations, or a session that vanished holding the lock.
      await holder`select pg_advisory_lock(${MIGRATION_LOCK})`;
      starting = startTestApp({}, { database, logger: logs.logger });
      const started = await Promise.race([starting, new Promise((resolve) => setTimeout(resolve, 10_000, "still starting"))]);
      expect(started).not.toBe("still starting");
      const t = started as TestApp;
      const readiness = await fetch(`${t.url}/readyz`);
      expect({ status: readiness.status, body: await readiness.json() }).toMatchObject({ status: 503, body: { checks: { database: "unavailable" } } });
      expect(logs.records().filter((record) => /migration lock/.test(record.msg))).toEqual([expect.objectContaining({ level: 30 })]);

      await holder`select pg_advisory_unlock(${MIGRATION_LOCK})`;
      await waitFor(async () => expect((await fetch(`${t.url}/readyz`)).status).toBe(200), 15_000);
    } finally {
      await holder.end();
      await (await starting)?.close();
      await database.drop();
    }
  }, 40_000);
});

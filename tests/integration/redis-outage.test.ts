import { Redis } from "ioredis";
import { captureLogs } from "../helpers/log-capture";
import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { errorCode, register, startTestApp, type AuthPayload, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";

// The test starts and kills a redis-server of its own on a spare port, so it needs the
// binary on PATH (it is skipped without one). The service under test points REDIS_URL at
// that port before anything listens there.
const describeWithRedisServer = hasRedisServer ? describe : describe.skip;

const ISSUE = `mutation { issueOneTimeToken(purpose: "outage") { token } }`;

describeWithRedisServer("Redis outage", () => {
  let port: number;
  let t: TestApp;
  let redis: RedisServer | undefined;
  let user: AuthPayload;

  const issue = () => t.gql(ISSUE, {}, { token: user.accessToken });
  const readiness = async () => {
    const res = await fetch(`${t.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
  };
  const issued = async () => {
    const res = await issue();
    if (!res.data?.issueOneTimeToken.token) throw new Error(`not issued: ${JSON.stringify(res.errors)}`);
  };
  const expectCleanFastFailure = async (call: () => Promise<GraphQLResponse>) => {
    const started = Date.now();
    const res = await call();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.errors?.[0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(JSON.stringify(res.errors)).not.toMatch(/redis|ECONNREFUSED|127\.0\.0\.1/i);
  };

  beforeAll(async () => {
    port = await freePort();
    t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}/0` });
    user = await register(t);
  });
  afterAll(async () => {
    await t.close();
    await redis?.kill();
  });

  test("down at start: the service starts, /readyz names Redis, token operations fail fast and cleanly", async () => {
    expect(await readiness()).toEqual({ status: 503, body: expect.objectContaining({ checks: { database: "ok", redis: "unavailable" } }) });
    await expectCleanFastFailure(issue);
  });

  test("Redis comes up: readiness and token operations recover without a restart", async () => {
    redis = await startRedisServer(port);
    await waitFor(async () => expect((await readiness()).status).toBe(200), 10_000);
    await issued();
  });

  test("Redis dies while running: requests fail fast, the process stays up, and it recovers when Redis is back", async () => {
    await redis!.kill();
    await expectCleanFastFailure(issue);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(await readiness()).toMatchObject({ status: 503, body: { checks: { redis: "unavailable" } } });
    expect((await t.gql(`{ me { id } }`, {}, { token: user.accessToken })).data?.me.id).toBe(user.user.id);
    expect(sampleValue(await fetchMetrics(t.url), "auth_token_store_errors_total", { operation: "set" })).toBeGreaterThanOrEqual(2);

    redis = await startRedisServer(port);
    await waitFor(issued, 10_000);
    expect((await readiness()).status).toBe(200);
  });

  test("Redis stops answering (CLIENT PAUSE): one call waits out the timeout, the next fail at once, and it recovers when Redis answers", async () => {
    const admin = new Redis(port, "127.0.0.1");
    try {
      await admin.call("CLIENT", "PAUSE", "5000", "ALL");
      // Its rate-limit count waits out the 2 s timeout (the call goes on uncounted), then its token is refused at once.
      await expectCleanFastFailure(issue);
      const started = Date.now();
      await expectCleanFastFailure(issue);
      expect(await readiness()).toMatchObject({ status: 503, body: { checks: { redis: "unavailable" } } });
      // Neither waited for an answer.
      expect(Date.now() - started).toBeLessThan(1_000);
      await waitFor(issued, 10_000);
    } finally {
      admin.disconnect();
    }
  });
});

describeWithRedisServer("a Redis without the commands the store needs", () => {
  test("(a user whose ACL leaves out COMMAND, say, but allows what the store runs) is ready", async () => {
    const port = await freePort();
    const acl = await startRedisServer(port, ["--user", "svc", "on", ">svc-password", "~*", "+@all", "-command"]);
    const t = await startTestApp({ REDIS_URL: `redis://svc:svc-password@127.0.0.1:${port}/0` });
    try {
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    } finally {
      await t.close();
      await acl.kill();
    }
  });


  test("(older than 7.0: no PEXPIRETIME) is not ready, and the log names what it lacks, instead of every rate limit letting calls through", async () => {
    const port = await freePort();
    // Redis 6.2 has GETDEL but not PEXPIRETIME, which names a rate-limit window.
    const old = await startRedisServer(port, ["--rename-command", "PEXPIRETIME", ""]);
    const logs = captureLogs();
    const t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}/0` }, { logger: logs.logger });
    try {
      const res = await fetch(`${t.url}/readyz`);
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 503, body: expect.objectContaining({ checks: { database: "ok", redis: "unavailable" } }) });
      expect(logs.records().filter((record) => record.missing)).toEqual([expect.objectContaining({ level: 50, missing: ["pexpiretime"] })]);
      // Asked once for the connection, however often the probe asks for readiness.
      await fetch(`${t.url}/readyz`);
      expect(logs.records().filter((record) => record.missing)).toHaveLength(1);
    } finally {
      await t.close();
      await old.kill();
    }
  });
});

describeWithRedisServer("a Redis out of memory (maxmemory reached, eviction off)", () => {
  test("still counts the rate limits: the sixth wrong password in a row is RATE_LIMITED", async () => {
    const port = await freePort();
    const server = await startRedisServer(port);
    const t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}/0`, RATE_LIMIT_LOGIN_ACCOUNT: "5/15m" });
    const admin = new Redis(port, "127.0.0.1");
    try {
      const { user } = await register(t);
      await admin.config("SET", "maxmemory", "1");
      // Redis now refuses every command that could add memory.
      await expect(admin.set("probe", "1")).rejects.toThrow(/OOM/);
      const wrongPassword = () => t.gql(`mutation($e: String!) { login(input: { email: $e, password: "not-the-password-1" }) { accessToken } }`, { e: user.email });
      for (let i = 0; i < 5; i++) expect(errorCode(await wrongPassword())).toBe("UNAUTHENTICATED");
      expect(errorCode(await wrongPassword())).toBe("RATE_LIMITED");
    } finally {
      admin.disconnect();
      await t.close();
      await server.kill();
    }
  });
});

import { Redis } from "ioredis";
import { hasRedisServer, startRedisServer, startSentinel, type RedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { errorCode, register, startTestApp, type AuthPayload, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";

// A master, its replica and one Sentinel, each a redis-server of the test's own (skipped
// without the binary). The service is given only the Sentinel's address and the group's name.
const describeWithRedisServer = hasRedisServer ? describe : describe.skip;

const GROUP = "auth-primary";
const PREFIX = "sentinel-test:";
const ISSUE = `mutation { issueOneTimeToken(purpose: "sentinel") { token } }`;
const CONSUME = `mutation($token: String!) { consumeOneTimeToken(purpose: "sentinel", token: $token) { purpose } }`;

describeWithRedisServer("Redis Sentinel", () => {
  let ports: { master: number; replica: number; sentinel: number };
  const servers: RedisServer[] = [];
  let master: RedisServer;
  let t: TestApp;
  let user: AuthPayload;

  const issue = async () => {
    const res = await t.gql(ISSUE, {}, { token: user.accessToken });
    const token = res.data?.issueOneTimeToken.token as string | undefined;
    if (!token) throw new Error(`not issued: ${JSON.stringify(res.errors)}`);
    return token;
  };
  const consume = async (token: string) => (await t.gql(CONSUME, { token }, { token: user.accessToken })).data?.consumeOneTimeToken as unknown;
  /** The service's keys on one server, read there directly. */
  const keysOn = async (port: number) => {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
    try {
      await client.connect();
      return { role: (await client.role())[0], keys: await client.keys(`${PREFIX}*`) };
    } finally {
      client.disconnect();
    }
  };

  /** Which master the Sentinel names, and what it knows of the replicas. */
  const sentinelView = async () => {
    const sentinel = new Redis({ port: ports.sentinel, host: "127.0.0.1", lazyConnect: true });
    try {
      await sentinel.connect();
      return { master: await sentinel.call("SENTINEL", "get-master-addr-by-name", GROUP), replicas: await sentinel.call("SENTINEL", "replicas", GROUP) };
    } finally {
      sentinel.disconnect();
    }
  };

  beforeAll(async () => {
    ports = { master: await freePort(), replica: await freePort(), sentinel: await freePort() };
    master = await startRedisServer(ports.master);
    servers.push(master, await startRedisServer(ports.replica, ["--replicaof", "127.0.0.1", String(ports.master)]));
    // The Sentinel finds the replica in the master's INFO: start it once the replica is attached.
    const replicaOf = new Redis({ port: ports.master, host: "127.0.0.1" });
    await waitFor(async () => expect(await replicaOf.info("replication")).toMatch(/connected_slaves:1/), 10_000);
    replicaOf.disconnect();
    servers.push(await startSentinel(ports.sentinel, ports.master, GROUP));

    t = await startTestApp({ REDIS_URL: `redis://${GROUP}/0`, REDIS_SENTINELS: `127.0.0.1:${ports.sentinel}`, REDIS_KEY_PREFIX: PREFIX });
    user = await register(t);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await Promise.all(servers.map((server) => server.kill()));
    // After a failover ioredis 6.0.0 cleans its old failover detector twice and leaves a 2 s
    // timer behind (ioredis #1362, fixed after 6.0.0 by #2198): let it run out before Jest ends.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  test("the service finds the master through the Sentinel and keeps its tokens there", async () => {
    const token = await issue();
    expect((await keysOn(ports.master)).keys.length).toBeGreaterThan(0);
    expect(await consume(token)).toEqual({ purpose: "sentinel" });
    expect(errorCode(await t.gql(CONSUME, { token }, { token: user.accessToken }))).toBe("INVALID_TOKEN");
  });

  test("after a failover the service follows the new master without a restart", async () => {
    await master.kill();
    // The Sentinel needs 1 s to call the master down: until it promotes the replica, token
    // operations fail fast and cleanly, as in any Redis outage.
    const started = Date.now();
    const during = await t.gql(ISSUE, {}, { token: user.accessToken });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(errorCode(during)).toBe("INTERNAL_SERVER_ERROR");
    const token = await waitFor(issue, 20_000).catch(async (error: Error) => {
      // Seen twice in CI (before keepConnected, src/store/redis.ts): say whether the Sentinel had promoted the replica.
      throw new Error(`${error.message}; then: ${JSON.stringify({ ports, replica: await keysOn(ports.replica), sentinel: await sentinelView() })}`);
    });
    expect(await keysOn(ports.replica)).toEqual({ role: "master", keys: expect.arrayContaining([expect.stringContaining(PREFIX)]) });
    expect(await consume(token)).toEqual({ purpose: "sentinel" });
    // Ready again, if not at once: seen once in CI, /readyz answered 503 right after the token
    // round trip. Most likely the Sentinel's +switch-master reached ioredis's failover detector
    // after the client had followed the new master, and the detector (which does not check)
    // dropped that connection, so the client connected once more.
    await waitFor(async () => {
      const ready = await fetch(`${t.url}/readyz`);
      expect(await ready.json()).toMatchObject({ status: "ok", checks: { redis: "ok" } });
    }, 5_000);
  }, 30_000);
});

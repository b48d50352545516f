import { Redis } from "ioredis";
import { hasOpenssl, makeTestCertificates, type TestCertificates } from "../helpers/certificates";
import { hasRedisCli, hasRedisServer, startRedisCluster, startRedisServer, startSentinel, type RedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { register, startTestApp, type TestApp } from "../helpers/test-app";

// A master and a Sentinel, then a cluster, that speak TLS only (their plain ports are closed),
// with a certificate from a CA of the test's own; skipped without redis-server, redis-cli or
// openssl.
const describeWithTls = hasRedisServer && hasRedisCli && hasOpenssl ? describe : describe.skip;

const GROUP = "auth-primary";
const PREFIX = "tls-test:";
const ISSUE = `mutation { issueOneTimeToken(purpose: "tls") { token } }`;
const CONSUME = `mutation($token: String!) { consumeOneTimeToken(purpose: "tls", token: $token) { purpose } }`;

describeWithTls("Redis over TLS", () => {
  let certificates: TestCertificates;
  let ports: { master: number; sentinel: number; cluster: number[] };
  const servers: RedisServer[] = [];
  const apps: TestApp[] = [];

  const start = async (env: Record<string, string>) => {
    const t = await startTestApp({ REDIS_KEY_PREFIX: PREFIX, ...env });
    apps.push(t);
    return t;
  };
  const readiness = async (t: TestApp) => (await fetch(`${t.url}/readyz`)).json();
  /** A one-time token issued and spent through the service, and what the master held meanwhile. */
  const roundTrip = async (t: TestApp) => {
    const { accessToken } = await register(t);
    const issued = await t.gql(ISSUE, {}, { token: accessToken });
    const token = issued.data?.issueOneTimeToken.token as string;
    const keys = await keysOnMaster();
    const consumed = await t.gql(CONSUME, { token }, { token: accessToken });
    return { keys, consumed: consumed.data?.consumeOneTimeToken as unknown };
  };
  const keysOnMaster = async () => {
    const client = new Redis({ port: ports.master, host: "127.0.0.1", tls: { ca: certificates.caPem }, lazyConnect: true });
    try {
      await client.connect();
      return await client.keys(`${PREFIX}ott:*`);
    } finally {
      client.disconnect();
    }
  };

  beforeAll(async () => {
    certificates = makeTestCertificates();
    ports = { master: await freePort(), sentinel: await freePort(), cluster: [await freePort(), await freePort(), await freePort()] };
    servers.push(await startRedisServer(ports.master, [], certificates));
    servers.push(await startSentinel(ports.sentinel, ports.master, GROUP, certificates));
    servers.push(...(await startRedisCluster(ports.cluster, { certificates })));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await Promise.all(servers.map((server) => server.kill()));
    certificates?.remove();
    // ioredis 6.0.0 leaves its failover detector's 2 s timer behind (see redis-sentinel.test.ts).
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  test("rediss:// reaches a TLS-only Redis whose certificate REDIS_TLS_CA vouches for", async () => {
    const t = await start({ REDIS_URL: `rediss://127.0.0.1:${ports.master}/0`, REDIS_TLS_CA: certificates.caPem });
    expect(await roundTrip(t)).toEqual({ keys: [expect.stringContaining(PREFIX)], consumed: { purpose: "tls" } });
  });

  test("through Sentinel, rediss:// speaks TLS to the sentinels and to the master they name", async () => {
    const t = await start({
      REDIS_URL: `rediss://${GROUP}/0`,
      REDIS_SENTINELS: `127.0.0.1:${ports.sentinel}`,
      REDIS_TLS_CA: certificates.caPem,
    });
    expect(await roundTrip(t)).toEqual({ keys: [expect.stringContaining(PREFIX)], consumed: { purpose: "tls" } });
    expect(await readiness(t)).toMatchObject({ status: "ok", checks: { redis: "ok" } });
  });

  test("a Redis Cluster over TLS: the node in rediss:// and every node it names", async () => {
    const t = await start({ REDIS_URL: `rediss://127.0.0.1:${ports.cluster[0]}`, REDIS_CLUSTER: "true", REDIS_TLS_CA: certificates.caPem });
    const { accessToken } = await register(t);
    // Ten tokens, all but certainly over several nodes (redis-cluster.test.ts checks where
    // they land): each is issued and spent where its slot lives.
    for (let i = 0; i < 10; i++) {
      const token = (await t.gql(ISSUE, {}, { token: accessToken })).data?.issueOneTimeToken.token as string;
      expect((await t.gql(CONSUME, { token }, { token: accessToken })).data?.consumeOneTimeToken).toEqual({ purpose: "tls" });
    }
    expect(await readiness(t)).toMatchObject({ status: "ok", checks: { redis: "ok" } });
  });

  test("a certificate from an authority the service was not given is refused", async () => {
    const t = await start({ REDIS_URL: `rediss://${GROUP}/0`, REDIS_SENTINELS: `127.0.0.1:${ports.sentinel}` });
    expect(await readiness(t)).toMatchObject({ status: "unavailable", checks: { redis: "unavailable" } });
  });
});

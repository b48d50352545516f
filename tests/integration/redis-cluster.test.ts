import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createRedisStore } from "../../src/store/redis";
import { hasRedisCli, hasRedisServer, startRedisCluster, type RedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { errorCode, register, startTestApp, type TestApp } from "../helpers/test-app";
import { describeTokenStore } from "../helpers/token-stores";
import { waitFor } from "../helpers/wait-for";

// Three masters of the test's own, sharing the slots, each with a replica (skipped without
// redis-server and redis-cli). The service is given one of them and finds the others.
const describeWithCluster = hasRedisServer && hasRedisCli ? describe : describe.skip;

const ISSUE = `mutation { issueOneTimeToken(purpose: "cluster") { token } }`;
const CONSUME = `mutation($token: String!) { consumeOneTimeToken(purpose: "cluster", token: $token) { purpose } }`;

describeWithCluster("Redis Cluster", () => {
  let ports: number[] = [];
  let nodes: RedisServer[] = [];
  const seed = () => `redis://127.0.0.1:${ports[0]}`;
  /** Asks one node, directly. */
  const onNode = async <T>(port: number, ask: (node: Redis) => Promise<T>) => {
    const node = new Redis({ port, host: "127.0.0.1" });
    try {
      return await ask(node);
    } finally {
      node.disconnect();
    }
  };
  const mastersNow = async () => {
    const roles = await Promise.all(ports.map((port, i) => (nodes[i]!.alive() ? onNode(port, (node) => node.role()) : null)));
    return ports.filter((_, i) => roles[i]?.[0] === "master");
  };
  /** The keys under `prefix` on each master, read there directly. */
  const keysPerMaster = async (prefix: string) => Promise.all((await mastersNow()).map((port) => onNode(port, (node) => node.keys(`${prefix}*`))));

  beforeAll(async () => {
    ports = [];
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    nodes = await startRedisCluster(ports, { replicas: 1 });
  }, 30_000);
  afterAll(() => Promise.all(nodes.map((node) => node.kill())));

  describeTokenStore("Redis Cluster", () => ({
    store: createRedisStore({ url: seed(), cluster: true, keyPrefix: `store-${randomBytes(3).toString("hex")}:` }),
    elapse: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100)),
  }));

  describe("the service", () => {
    const PREFIX = "cluster-test:";
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ REDIS_URL: seed(), REDIS_CLUSTER: "true", REDIS_KEY_PREFIX: PREFIX, RATE_LIMIT_ONE_TIME_TOKEN_USER: "15/1m" });
    });
    afterAll(() => t?.close());

    test("keeps its tokens on every node, spends each once, and counts its rate limits there", async () => {
      const { accessToken } = await register(t);
      const call = (query: string, variables = {}) => t.gql(query, variables, { token: accessToken });
      const tokens: string[] = [];
      for (let i = 0; i < 12; i++) tokens.push((await call(ISSUE)).data?.issueOneTimeToken.token as string);

      // Token keys hash to slots all over the cluster: with 12 of them, on more than one node.
      const perMaster = await keysPerMaster(`${PREFIX}ott:`);
      expect(perMaster.flat()).toHaveLength(12);
      expect(perMaster.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);

      for (const token of tokens) expect((await call(CONSUME, { token })).data?.consumeOneTimeToken).toEqual({ purpose: "cluster" });
      expect(errorCode(await call(CONSUME, { token: tokens[0] }))).toBe("INVALID_TOKEN");
      expect((await keysPerMaster(`${PREFIX}ott:`)).flat()).toEqual([]);

      // 12 issued of 15 a minute: three more, then the limit.
      for (let i = 0; i < 3; i++) expect(errorCode(await call(ISSUE))).toBeUndefined();
      expect(errorCode(await call(ISSUE))).toBe("RATE_LIMITED");
      expect(await (await fetch(`${t.url}/readyz`)).json()).toMatchObject({ status: "ok", checks: { redis: "ok" } });
    });

    test("with a master gone, its slots fail fast until its replica takes over, then work again without a restart", async () => {
      /** Six issues by a new account (under its 15 a minute), each answered within 3 s. */
      const issueSix = async () => {
        const { accessToken } = await register(t);
        const answers = [];
        for (let i = 0; i < 6; i++) {
          const started = Date.now();
          answers.push(errorCode(await t.gql(ISSUE, {}, { token: accessToken })) ?? "ok");
          expect(Date.now() - started).toBeLessThan(3_000);
        }
        return answers;
      };
      const roles = await Promise.all(ports.map((port) => onNode(port, (node) => node.role())));
      const victim = ports.find((_, i) => roles[i]![0] === "master")!;
      const replica = ports.find((_, i) => roles[i]![0] === "slave" && Number(roles[i]![2]) === victim)!;
      await nodes[ports.indexOf(victim)]!.kill();

      // A third of the slots died with the master: calls on them fail, none hangs. Tokens land
      // on random slots, so issue until one lands there (24 misses in a row: once in 17,000).
      const during: string[] = [];
      while (!during.includes("INTERNAL_SERVER_ERROR") && during.length < 24) during.push(...(await issueSix()));
      expect(during).toContain("INTERNAL_SERVER_ERROR");
      expect(during.filter((answer) => answer !== "ok" && answer !== "INTERNAL_SERVER_ERROR")).toEqual([]);

      // The cluster promotes the replica (node timeout 2 s). Waiting for that first matters:
      // a dozen calls that all miss the dead slots would otherwise pass for a recovery.
      await waitFor(async () => expect((await onNode(replica, (node) => node.role()))[0]).toBe("master"), 20_000);

      // The client learns the new map without a restart: then every call answers, and the
      // promoted replica holds tokens issued through the service.
      await waitFor(async () => expect([...(await issueSix()), ...(await issueSix())]).toEqual(Array(12).fill("ok")), 20_000);
      const onPromoted = () => onNode(replica, (node) => node.keys(`${PREFIX}ott:*`));
      for (let round = 0; (await onPromoted()).length === 0 && round < 6; round++) expect(await issueSix()).toEqual(Array(6).fill("ok"));
      expect((await onPromoted()).length).toBeGreaterThan(0);
    }, 40_000);
  });
});

import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createRedisStore } from "../../src/store/redis";
import { hasRedisCli, hasRedisServer, startRedisCluster, type RedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { errorCode, register, startTestApp, type TestApp } from "../helpers/test-app";
import { describeTokenStore } from "../helpers/token-stores";

// Three masters of the test's own, sharing the slots (skipped without redis-server and
// redis-cli). The service is given one of them and finds the others.
const describeWithCluster = hasRedisServer && hasRedisCli ? describe : describe.skip;

const ISSUE = `mutation { issueOneTimeToken(purpose: "cluster") { token } }`;
const CONSUME = `mutation($token: String!) { consumeOneTimeToken(purpose: "cluster", token: $token) { purpose } }`;

describeWithCluster("Redis Cluster", () => {
  let ports: number[] = [];
  let nodes: RedisServer[] = [];
  const seed = () => `redis://127.0.0.1:${ports[0]}`;
  /** The keys under `prefix` on each node, read there directly. */
  const keysPerNode = async (prefix: string) =>
    Promise.all(
      ports.map(async (port) => {
        const node = new Redis({ port, host: "127.0.0.1" });
        try {
          return await node.keys(`${prefix}*`);
        } finally {
          node.disconnect();
        }
      }),
    );

  beforeAll(async () => {
    ports = [await freePort(), await freePort(), await freePort()];
    nodes = await startRedisCluster(ports);
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
      const perNode = await keysPerNode(`${PREFIX}ott:`);
      expect(perNode.flat()).toHaveLength(12);
      expect(perNode.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);

      for (const token of tokens) expect((await call(CONSUME, { token })).data?.consumeOneTimeToken).toEqual({ purpose: "cluster" });
      expect(errorCode(await call(CONSUME, { token: tokens[0] }))).toBe("INVALID_TOKEN");
      expect((await keysPerNode(`${PREFIX}ott:`)).flat()).toEqual([]);

      // 12 issued of 15 a minute: three more, then the limit.
      for (let i = 0; i < 3; i++) expect(errorCode(await call(ISSUE))).toBeUndefined();
      expect(errorCode(await call(ISSUE))).toBe("RATE_LIMITED");
      expect(await (await fetch(`${t.url}/readyz`)).json()).toMatchObject({ status: "ok", checks: { redis: "ok" } });
    });

    test("with a node gone, token operations fail fast and cleanly instead of hanging", async () => {
      const { accessToken } = await register(t);
      await nodes[2]!.kill();
      const answers = [];
      for (let i = 0; i < 6; i++) {
        const started = Date.now();
        answers.push(errorCode(await t.gql(ISSUE, {}, { token: accessToken })) ?? "ok");
        expect(Date.now() - started).toBeLessThan(3_000);
      }
      // A third of the slots died with the node; the rest go once the others call it down.
      expect(answers).toContain("INTERNAL_SERVER_ERROR");
      expect(answers.filter((answer) => answer !== "ok" && answer !== "INTERNAL_SERVER_ERROR")).toEqual([]);
    }, 30_000);
  });
});

import { Writable } from "node:stream";
import { createLogger } from "../../src/logger";
import { createMemoryStore } from "../../src/store/memory";
import { createRedisStore } from "../../src/store/redis";
import type { TokenStore } from "../../src/store/token-store";
import { startTcpRelay } from "../helpers/tcp-relay";
import { createRedisStores, describeTokenStore, makeMemoryStore } from "../helpers/token-stores";
import { waitFor } from "../helpers/wait-for";

const redisUrl = process.env.TEST_REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;

describeTokenStore("memory", makeMemoryStore);

test("the memory store, full, drops the key written longest ago to make room for a new one", async () => {
  const store = createMemoryStore({ maxEntries: 3 });
  try {
    await store.increment("counter", 60);
    for (const key of ["a", "b"]) await store.set(key, key, 60);
    // A counter in use is written again and again: it is the newest, not the oldest.
    await store.increment("counter", 60);
    await store.set("c", "c", 60);
    await expect(store.get("a")).resolves.toBeNull();
    await expect(store.increment("counter", 60)).resolves.toMatchObject({ count: 3 });
    // Writing a key it holds makes no room: nothing else goes.
    await store.set("b", "again", 60);
    for (const [key, value] of [["b", "again"], ["c", "c"]]) await expect(store.get(key!)).resolves.toBe(value);
  } finally {
    await store.close();
  }
});

describeWithRedis("Redis", () => {
  const stores = createRedisStores(redisUrl!);
  afterAll(() => stores.cleanup());

  describeTokenStore("Redis", () => stores.make());

  test("every key the store writes carries its prefix", async () => {
    const { store, keyPrefix } = stores.make();
    try {
      await store.set("token", "value", 60);
      await store.increment("counter", 60);
      expect((await stores.keys(keyPrefix)).sort()).toEqual([`${keyPrefix}counter`, `${keyPrefix}token`]);
      await expect(stores.raw.get(`${keyPrefix}token`)).resolves.toBe("value");
      await expect(stores.raw.exists("token", "counter")).resolves.toBe(0);
    } finally {
      await store.close();
    }
  });

  test("operations fail fast while Redis is gone and work again once it is back", async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port || 6379) });
    const viaRelay = new URL(redisUrl!);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    const store = createRedisStore({ url: viaRelay.toString(), keyPrefix: stores.newPrefix() });
    try {
      await store.set("token", "value", 60);

      await relay.stop();
      const started = Date.now();
      await expect(store.get("token")).rejects.toThrow(/unavailable/);
      expect(Date.now() - started).toBeLessThan(3000);

      await relay.restart();
      await waitFor(() => store.ping(), 5000);
      await expect(store.get("token")).resolves.toBe("value");
    } finally {
      await store.close();
      await relay.stop();
    }
  });
});

describe("Redis token store with nothing listening", () => {
  let store: TokenStore;
  const lines: string[] = [];
  beforeAll(() => {
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    store = createRedisStore({ url: "redis://127.0.0.1:1", keyPrefix: "unused:", logger: createLogger({ level: "info", destination }) });
  });
  afterAll(() => store.close());

  test("get rejects within a few seconds instead of hanging", async () => {
    const started = Date.now();
    await expect(store.get("token")).rejects.toThrow(/Redis token store unavailable: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("ping rejects, so readiness reports the store", async () => {
    await expect(store.ping()).rejects.toThrow(/unavailable/);
  });

  test("reconnect attempts are logged once, not once per attempt", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(lines.filter((line) => line.includes("unreachable"))).toHaveLength(1);
  });
});

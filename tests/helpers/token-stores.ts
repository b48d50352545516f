import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createMemoryStore } from "../../src/store/memory";
import { createRedisStore } from "../../src/store/redis";
import type { TokenStore } from "../../src/store/token-store";
import { runId } from "./databases";

export interface StoreUnderTest {
  store: TokenStore;
  /** Lets time pass for the store: a clock jump in memory, a real wait on Redis. */
  elapse(seconds: number): Promise<void>;
}

const key = (label: string) => `${label}:${randomBytes(6).toString("hex")}`;

/** The TokenStore contract, run on every implementation (lucia's adapter-test). */
export function describeTokenStore(name: string, make: () => StoreUnderTest) {
  describe(`${name} token store`, () => {
    let s: StoreUnderTest;
    beforeEach(() => {
      s = make();
    });
    afterEach(() => s.store.close());

    test("get answers null for a key never set", async () => {
      await expect(s.store.get(key("missing"))).resolves.toBeNull();
    });

    test("a value and a counter live until their TTL runs out", async () => {
      const [token, counter] = [key("token"), key("counter")];
      await s.store.set(token, "value", 1);
      await s.store.increment(counter, 1);
      await expect(s.store.get(token)).resolves.toBe("value");

      await s.elapse(1);
      await expect(s.store.get(token)).resolves.toBeNull();
      await expect(s.store.consume(token)).resolves.toBeNull();
      await expect(s.store.increment(counter, 60)).resolves.toMatchObject({ count: 1, ttlSeconds: 60 });
    });

    test("set replaces an earlier value", async () => {
      const k = key("token");
      await s.store.set(k, "first", 60);
      await s.store.set(k, "second", 60);
      await expect(s.store.get(k)).resolves.toBe("second");
    });

    test("swap sets a value with its TTL and returns the one it replaced", async () => {
      const k = key("latest");
      await expect(s.store.swap(k, "first", 60)).resolves.toBeNull();
      await expect(s.store.swap(k, "second", 1)).resolves.toBe("first");
      await expect(s.store.get(k)).resolves.toBe("second");
      await s.elapse(1);
      await expect(s.store.swap(k, "third", 60)).resolves.toBeNull();
    });

    test("of 30 concurrent swaps on one key each value is replaced exactly once", async () => {
      const k = key("latest");
      const values = Array.from({ length: 30 }, (_, i) => `value-${i}`);
      const replaced = await Promise.all(values.map((v) => s.store.swap(k, v, 60)));
      // A chain: every value but the last one standing was handed back once, and null once.
      const last = await s.store.get(k);
      expect([...replaced, last].sort()).toEqual([null, ...values].sort());
    });

    test("consume returns the value once and removes the key", async () => {
      const k = key("token");
      await s.store.set(k, "value", 60);
      await expect(s.store.consume(k)).resolves.toBe("value");
      await expect(s.store.consume(k)).resolves.toBeNull();
      await expect(s.store.get(k)).resolves.toBeNull();
    });

    test("of 50 concurrent consumes of one key exactly one gets the value", async () => {
      const k = key("token");
      await s.store.set(k, "value", 60);
      const results = await Promise.all(Array.from({ length: 50 }, () => s.store.consume(k)));
      expect(results.filter((r) => r !== null)).toEqual(["value"]);
    });

    test("consumeWhere spends a record only when every named field matches, and returns it either way", async () => {
      const k = key("record");
      const record = JSON.stringify({ userId: "u1", purpose: "export", issuedAt: "2026-01-01T00:00:00.000Z" });
      await s.store.set(k, record, 60);
      await expect(s.store.consumeWhere(k, { userId: "u2", purpose: "export" })).resolves.toEqual({ value: record, consumed: false });
      await expect(s.store.consumeWhere(k, { userId: "u1", purpose: "import" })).resolves.toEqual({ value: record, consumed: false });
      await expect(s.store.get(k)).resolves.toBe(record);
      await expect(s.store.consumeWhere(k, { userId: "u1", purpose: "export" })).resolves.toEqual({ value: record, consumed: true });
      await expect(s.store.consumeWhere(k, {})).resolves.toBeNull();
      await expect(s.store.get(k)).resolves.toBeNull();
    });

    test("of 50 concurrent matching consumeWhere calls exactly one spends the record", async () => {
      const k = key("record");
      await s.store.set(k, JSON.stringify({ purpose: "export" }), 60);
      const results = await Promise.all(Array.from({ length: 50 }, () => s.store.consumeWhere(k, { purpose: "export" })));
      expect(results.filter((r) => r?.consumed)).toHaveLength(1);
      expect(results.filter((r) => r === null)).toHaveLength(49);
    });

    test("increment counts from 1 and keeps the TTL it was created with", async () => {
      const k = key("counter");
      await expect(s.store.increment(k, 60)).resolves.toMatchObject({ count: 1, ttlSeconds: 60 });
      const second = await s.store.increment(k, 5);
      expect(second.count).toBe(2);
      expect(second.ttlSeconds).toBeGreaterThan(55);
      expect(second.ttlSeconds).toBeLessThanOrEqual(60);
    });

    // The seconds left become a rate limit's retryAfter: rounded down, a client that waits
    // them is refused again (Redis's TTL rounds to the nearest second).
    test("the seconds left on a counter's window are rounded up", async () => {
      const k = key("counter");
      await s.store.increment(k, 3);
      await s.elapse(0.6);
      await expect(s.store.increment(k, 3)).resolves.toMatchObject({ count: 2, ttlSeconds: 3 });
    });

    test("30 concurrent increments return each count from 1 to 30 once", async () => {
      const k = key("counter");
      const results = await Promise.all(Array.from({ length: 30 }, () => s.store.increment(k, 60)));
      expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    });

    test("a negative increment takes a count back, but never revives a missing key", async () => {
      const k = key("counter");
      await s.store.increment(k, 60);
      await s.store.increment(k, 60);
      await expect(s.store.increment(k, 60, -1)).resolves.toMatchObject({ count: 1 });
      await expect(s.store.increment(key("missing"), 60, -1)).resolves.toMatchObject({ count: 0, ttlSeconds: 0 });
      await expect(s.store.get(key("missing"))).resolves.toBeNull();
      // Given back to zero, the counter is gone, and the next count starts a new window.
      await expect(s.store.increment(k, 60, -1)).resolves.toMatchObject({ count: 0, ttlSeconds: 0 });
      await expect(s.store.get(k)).resolves.toBeNull();
      await expect(s.store.increment(k, 30)).resolves.toMatchObject({ count: 1, ttlSeconds: 30 });
    });

    test("a count given back names its window: once that window closed, the next one's count is left alone", async () => {
      const k = key("counter");
      const first = await s.store.increment(k, 1);
      const refused = await s.store.increment(k, 1);
      expect(refused.window).toBe(first.window);
      await expect(s.store.increment(k, 1, -1, refused.window)).resolves.toMatchObject({ count: 1 });
      await s.store.increment(k, 1);
      await s.elapse(1.1);
      const next = await s.store.increment(k, 1);
      expect(next).toMatchObject({ count: 1 });
      expect(next.window).toBeGreaterThan(first.window);
      // The call counted in the closed window gives its count back: nothing is taken off this one.
      await expect(s.store.increment(k, 1, -1, refused.window)).resolves.toMatchObject({ count: 0 });
      await expect(s.store.increment(k, 1)).resolves.toMatchObject({ count: 2 });
    });

    test("delete removes a key, and deleting a missing key is no error", async () => {
      const k = key("token");
      await s.store.set(k, "value", 60);
      await s.store.delete(k);
      await expect(s.store.get(k)).resolves.toBeNull();
      await expect(s.store.delete(k)).resolves.toBeUndefined();
    });

    test("a TTL that is not a positive whole number of seconds is refused", async () => {
      for (const ttl of [0, -1, 1.5, Number.NaN]) {
        await expect(s.store.set(key("token"), "value", ttl)).rejects.toThrow(RangeError);
        await expect(s.store.swap(key("token"), "value", ttl)).rejects.toThrow(RangeError);
        await expect(s.store.increment(key("counter"), ttl)).rejects.toThrow(RangeError);
      }
    });

    test("ping resolves while the store answers", async () => {
      await expect(s.store.ping()).resolves.toBeUndefined();
    });
  });
}

export function makeMemoryStore(): StoreUnderTest {
  let at = Date.parse("2030-01-01T00:00:00Z");
  return {
    store: createMemoryStore({ now: () => new Date(at) }),
    async elapse(seconds) {
      at += seconds * 1000;
    },
  };
}

/**
 * Redis stores of one test file. Every store gets a prefix of its own under one prefix
 * named after the run, and `cleanup` deletes every key under it.
 */
export function createRedisStores(url: string) {
  const filePrefix = `auth_test_${runId()}_${randomBytes(4).toString("hex")}:`;
  const raw = new Redis(url, { lazyConnect: true });

  async function keys(prefix = filePrefix): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of raw.scanStream({ match: `${prefix}*`, count: 100 })) found.push(...(batch as string[]));
    return found;
  }

  const newPrefix = () => `${filePrefix}${randomBytes(3).toString("hex")}:`;

  return {
    raw,
    keys,
    newPrefix,
    make(keyPrefix = newPrefix()): StoreUnderTest & { keyPrefix: string } {
      return {
        keyPrefix,
        store: createRedisStore({ url, keyPrefix }),
        // Redis expires keys by its own clock, so this one test waits for real.
        elapse: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100)),
      };
    },
    async cleanup() {
      const left = await keys();
      if (left.length) await raw.del(...left);
      raw.disconnect();
    },
  };
}

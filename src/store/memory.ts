import { assertTtl, type TokenStore } from "./token-store";

interface Entry {
  value: string;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;
// Some 20 MB of keys: tokens and counters of a busy single instance, far from its heap's end.
const MAX_ENTRIES = 100_000;

/**
 * The token store of the embedded single-process mode. Each operation reads and writes
 * the map in one synchronous step (no await in between), so concurrent callers cannot
 * interleave: a raced consume wins once and increments never lose a count, as in Redis.
 * State lives in this process only, which is why REDIS_URL is needed for more than one.
 */
export function createMemoryStore(deps: { now?: () => Date; maxEntries?: number } = {}): TokenStore {
  const now = deps.now ?? (() => new Date());
  const maxEntries = deps.maxEntries ?? MAX_ENTRIES;
  const entries = new Map<string, Entry>();

  /**
   * Writes an entry. Full, the store makes room for a new key by dropping the oldest one, as
   * Redis does under an LRU policy: keys an attacker keeps making (a counter per address they
   * name) would otherwise grow the heap until the process dies.
   */
  function put(key: string, entry: Entry): void {
    if (entries.size >= maxEntries && !entries.has(key)) entries.delete(entries.keys().next().value!);
    entries.set(key, entry);
  }

  /** The live entry, or undefined; an expired one is removed on the way. */
  function live(key: string, at: number): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= at) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  function sweep(): void {
    const at = now().getTime();
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= at) entries.delete(key);
    }
  }

  // Lazy expiry alone would keep keys that are never read again (most rate-limit counters).
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    async set(key, value, ttlSeconds) {
      assertTtl(ttlSeconds);
      put(key, { value, expiresAt: now().getTime() + ttlSeconds * 1000 });
    },

    async swap(key, value, ttlSeconds) {
      assertTtl(ttlSeconds);
      const previous = live(key, now().getTime())?.value ?? null;
      put(key, { value, expiresAt: now().getTime() + ttlSeconds * 1000 });
      return previous;
    },

    async get(key) {
      return live(key, now().getTime())?.value ?? null;
    },

    async consume(key) {
      const entry = live(key, now().getTime());
      entries.delete(key);
      return entry?.value ?? null;
    },

    async consumeWhere(key, where) {
      const entry = live(key, now().getTime());
      if (!entry) return null;
      const record = JSON.parse(entry.value) as Record<string, unknown>;
      const consumed = Object.entries(where).every(([field, expected]) => record[field] === expected);
      if (consumed) entries.delete(key);
      return { value: entry.value, consumed };
    },

    async increment(key, ttlSeconds, by = 1) {
      assertTtl(ttlSeconds);
      const at = now().getTime();
      const existing = live(key, at);
      if (!existing && by < 0) return { count: 0, ttlSeconds: 0 };
      const entry = existing ?? { value: "0", expiresAt: at + ttlSeconds * 1000 };
      const count = Number(entry.value) + by;
      // Redis's INCR refuses a value that is not a counter; so does this store.
      if (!Number.isSafeInteger(count)) throw new TypeError(`Key ${key} does not hold a counter`);
      put(key, { value: String(count), expiresAt: entry.expiresAt });
      return { count, ttlSeconds: Math.ceil((entry.expiresAt - at) / 1000) };
    },

    async delete(key) {
      entries.delete(key);
    },

    async ping() {},

    async close() {
      clearInterval(sweeper);
      entries.clear();
    },
  };
}

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
   * Writes an entry, as the most recently written. Full, the store makes room for a new key by
   * dropping the one written longest ago (expired ones drift there too): keys a flood keeps
   * making would otherwise grow the heap until the process dies, and a counter in use, such as
   * the flooding client's own, is written on every call and stays.
   */
  function put(key: string, entry: Entry): void {
    // A Map keeps its insertion order, and a set() of a key it holds keeps the key's place.
    if (!entries.delete(key) && entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
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

    async increment(key, ttlSeconds, by = 1, window) {
      assertTtl(ttlSeconds);
      const at = now().getTime();
      const existing = live(key, at);
      // A count given back to a window that has closed is not taken off the next one's.
      if (by < 0 && (!existing || (window !== undefined && existing.expiresAt !== window))) return { count: 0, ttlSeconds: 0, window: 0 };
      const entry = existing ?? { value: "0", expiresAt: at + ttlSeconds * 1000 };
      const count = Number(entry.value) + by;
      // Redis's INCR refuses a value that is not a counter; so does this store.
      if (!Number.isSafeInteger(count)) throw new TypeError(`Key ${key} does not hold a counter`);
      // Given back to zero: no key left behind, as in Redis.
      if (count <= 0) {
        entries.delete(key);
        return { count: 0, ttlSeconds: 0, window: 0 };
      }
      put(key, { value: String(count), expiresAt: entry.expiresAt });
      return { count, ttlSeconds: Math.ceil((entry.expiresAt - at) / 1000), window: entry.expiresAt };
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

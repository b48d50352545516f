/**
 * Short-lived keys: hashed one-time tokens and rate-limit counters. Redis when REDIS_URL
 * is set, in-process otherwise; both pass the same contract suite
 * (tests/helpers/token-stores.ts). Every value expires: there is no operation without a TTL.
 */
export interface TokenStore {
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets the key and returns the value it held before, in one atomic step (Redis SET … GET). */
  swap(key: string, value: string, ttlSeconds: number): Promise<string | null>;
  get(key: string): Promise<string | null>;
  /** Atomic get-and-delete (Redis GETDEL): of callers racing for one key exactly one gets the value. */
  consume(key: string): Promise<string | null>;
  /**
   * The conditional form of consume, for a JSON object stored under `key`: in one atomic step
   * it is deleted when each field named in `where` holds the given string. The record comes
   * back either way (`consumed` says which), so a caller can tell why it was not spent; null
   * when the key does not exist.
   */
  consumeWhere(key: string, where: Readonly<Record<string, string>>): Promise<{ value: string; consumed: boolean } | null>;
  /**
   * Atomically adds `by` (default 1) and returns the new count, the seconds left before
   * the key expires, and the window it counted in (the key's expiry, in ms since the epoch;
   * the TTL is set when the key is created). A negative `by` on a missing key changes nothing
   * (a count that already expired is not taken below zero), nor does one that names another
   * `window` than the key's (its window closed, and a new one began); a count brought to zero
   * is deleted: calls that all gave their count back leave no key.
   */
  increment(key: string, ttlSeconds: number, by?: number, window?: number): Promise<{ count: number; ttlSeconds: number; window: number }>;
  delete(key: string): Promise<void>;
  /** Resolves when the store answers; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Both stores refuse the same TTLs, so a caller's mistake fails alike in development
 * (memory) and production (Redis, whose EX needs a positive integer) instead of
 * silently storing a token that is expired at once.
 */
export function assertTtl(ttlSeconds: number): void {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`A token store TTL must be a positive whole number of seconds, got ${ttlSeconds}`);
  }
}

import type postgres from "postgres";

/** How long past the statement timeout a query may go unanswered before its server counts as lost. */
export const LOST_AFTER_TIMEOUT_MS = 5_000;
const SWEEP_INTERVAL_MS = 1_000;

export interface WatchedPool {
  /** The pool of the moment: a lost one is replaced behind it. */
  readonly sql: postgres.Sql;
  close(): Promise<void>;
}

/**
 * A postgres.js pool whose lost connections are given up on. postgres.js has no client-side
 * deadline (porsager/postgres#1089): a server that stops answering without closing its
 * connections (its host gone, a failover that moved its address, a firewall that forgot the
 * flows) holds every query sent down them until the kernel gives up on TCP, some 15 minutes,
 * and the pool keeps handing new queries to the same connections.
 *
 * PostgreSQL ends a statement at `statementTimeoutMs` itself, so a query still unanswered
 * LOST_AFTER_TIMEOUT_MS later has lost its server. Then `open` makes a new pool, which takes
 * every query from then on, and the old one is ended at once: the queries it held fail
 * (CONNECTION_DESTROYED) and their requests end with an error instead of waiting. A query that
 * waited that long for a free connection counts too: a pool so backed up is no better kept.
 *
 * A server that refuses connections needs none of this (its queries fail at once, and the pool
 * reconnects by itself). Without a statement timeout nothing tells a slow statement from a lost
 * server, and nothing is watched.
 */
export function watchedPool(
  open: () => postgres.Sql,
  options: { statementTimeoutMs: number; onLost(waitedMs: number): void; marginMs?: number },
): WatchedPool {
  let current = open();
  const ending = new Set<Promise<void>>();
  // The queries sent and not yet answered, with when each was sent: the first is the oldest.
  const waiting = new Map<PromiseLike<unknown>, number>();
  const deadlineMs = options.statementTimeoutMs + (options.marginMs ?? LOST_AFTER_TIMEOUT_MS);

  function watch<T extends PromiseLike<unknown>>(query: T): T {
    waiting.set(query, performance.now());
    const answered = () => waiting.delete(query);
    // A postgres.js query is sent in a microtask after its first then(): drizzle's .values(),
    // called as unsafe() returns, still applies.
    query.then(answered, answered);
    return query;
  }

  function replace(waitedMs: number) {
    const lost = current;
    current = open();
    // drizzle-orm sets its own date parsers on the pool it is given (postgres-js/driver).
    Object.assign(current.options.parsers, lost.options.parsers);
    Object.assign(current.options.serializers, lost.options.serializers);
    waiting.clear();
    const ended = lost.end({ timeout: 0 }).catch(() => {});
    ending.add(ended);
    void ended.then(() => ending.delete(ended));
    options.onLost(waitedMs);
  }

  function sweep() {
    const oldest = waiting.values().next();
    if (oldest.done) return;
    const waitedMs = performance.now() - oldest.value;
    if (waitedMs > deadlineMs) replace(waitedMs);
  }
  const watching = options.statementTimeoutMs > 0;
  const sweeper = watching ? setInterval(sweep, SWEEP_INTERVAL_MS).unref() : undefined;

  // drizzle-orm sends every statement through unsafe(); a transaction's, through the connection
  // begin() reserves, which ends with the pool when it is replaced.
  const unsafe = (...args: Parameters<postgres.Sql["unsafe"]>) => watch(current.unsafe(...args));
  const sql = new Proxy(current, {
    get: (_target, property) => (property === "unsafe" && watching ? unsafe : Reflect.get(current, property)),
    apply: (_target, self, args) => Reflect.apply(current, self, args),
  });

  return {
    sql,
    async close() {
      clearInterval(sweeper);
      await Promise.all([current.end({ timeout: 5 }), ...ending]);
    },
  };
}

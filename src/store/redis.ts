import { Cluster, Redis, ReplyError, type Result } from "ioredis";
import type { Logger } from "../logger";
import { GuardedConnector, GuardedSentinelConnector } from "./redis-connectors";
import { assertTtl, type TokenStore } from "./token-store";

// INCR, then the TTL in the same step, so no caller sees a count without its window; the
// seconds left are rounded up (TTL would round 2.4 s down to 2, and a client told to wait
// 2 s would be refused again). The window is named by its key's expiry (PEXPIRETIME, set
// once when the key is made): a count given back (a negative ARGV[2]) names the window it
// was counted in, ARGV[3], and is dropped when that window has closed, rather than taken off
// the next one's count.
// A key found without an expiry (created first, or left by hand) gets one: a counter
// that never expires would lock its subject out for good. A count given back to zero is
// deleted, so calls that were all given back leave no key behind.
// allow-oom: a Redis at its maxmemory with eviction off refuses every write that could add
// memory, and a rate limit that cannot count lets calls through; a counter is a few bytes.
const INCREMENT = `#!lua flags=allow-oom
if tonumber(ARGV[2]) < 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return {0, 0, 0}
  end
  if ARGV[3] ~= '' and redis.call('PEXPIRETIME', KEYS[1]) ~= tonumber(ARGV[3]) then
    return {0, 0, 0}
  end
end
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count <= 0 then
  redis.call('DEL', KEYS[1])
  return {0, 0, 0}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1]) * 1000
end
return {count, math.ceil(ttl / 1000), redis.call('PEXPIRETIME', KEYS[1])}
`;

// GET, the checks and DEL in one step: no other caller can spend the record in between.
// ARGV holds field, expected value, field, expected value...
const CONSUME_WHERE = `
local value = redis.call('GET', KEYS[1])
if not value then
  return false
end
local record = cjson.decode(value)
for i = 1, #ARGV, 2 do
  if record[ARGV[i]] ~= ARGV[i + 1] then
    return {value, 0}
  end
end
redis.call('DEL', KEYS[1])
return {value, 1}
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    authIncrement(key: string, ttlSeconds: number, by: number, window: number | ""): Result<[number, number, number], Context>;
    authConsumeWhere(key: string, ...fieldsAndValues: string[]): Result<[string, 0 | 1] | null, Context>;
  }
}

/**
 * Commands this store needs that older servers lack: GETDEL (6.2) and PEXPIRETIME (7.0, the
 * rate-limit window's name). Without them token calls or every rate-limit count would fail,
 * and a limit that cannot count lets calls through: the store is not ready instead. Each is
 * tried on a key that does not exist, which changes nothing: a server that does not know it,
 * has it renamed away or refuses it to this user (an ACL) answers with an error.
 */
const PROBE_KEY = "probe:required-commands";
const REQUIRED_COMMANDS = {
  getdel: (redis: Redis | Cluster) => redis.getdel(PROBE_KEY),
  pexpiretime: (redis: Redis | Cluster) => redis.pexpiretime(PROBE_KEY),
};

/** How long a Redis command, connection or Sentinel question may take (the readiness check waits as long). */
export const REDIS_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 2_000;
const ERROR_LOG_INTERVAL_MS = 30_000;
const RESTART_DELAY_MS = 500;
/** Between PINGs to a Redis that stopped answering, when one fails at once (the connection refused). */
const PROBE_DELAY_MS = 500;

/** Where Redis Sentinel runs; the master group's name is the host of the Redis URL. */
export interface SentinelSettings {
  addresses: readonly { host: string; port: number }[];
  password?: string;
  /** Whether the sentinels themselves are reached over TLS. */
  tls?: boolean;
}

/**
 * ioredis asks the sentinels for the master group's current master, connects there, and
 * asks again whenever that connection drops; the failover detector also hears the
 * sentinels announce a new master, so a failover is followed without waiting for a timeout.
 * With rediss:// the master is reached over TLS too: in Sentinel mode ioredis leaves out the
 * `tls` option unless told otherwise (enableTLSForSentinelMode) and connects in the clear.
 */
function sentinelOptions(url: URL, sentinels: SentinelSettings, ca: string | undefined) {
  return {
    sentinels: sentinels.addresses.map((address) => ({ ...address })),
    name: decodeURIComponent(url.hostname),
    sentinelPassword: sentinels.password,
    sentinelTLS: sentinels.tls ? { ca } : undefined,
    enableTLSForSentinelMode: url.protocol === "rediss:",
    sentinelCommandTimeout: REDIS_TIMEOUT_MS,
    failoverDetector: true,
  };
}

export interface RedisStoreSettings {
  url: string;
  keyPrefix: string;
  sentinels?: SentinelSettings;
  /** REDIS_URL names one node of a Redis Cluster, from which the client learns the others. */
  cluster?: boolean;
  /** The authorities trusted for the servers' certificates instead of Node's. */
  tlsCa?: string;
  logger?: Logger;
}

// Returning a number means "retry": never give up, but never wait long between tries.
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS);

/** One Redis, the master a Sentinel names, or a Cluster: the same commands on each. */
function connect(settings: RedisStoreSettings): Redis | Cluster {
  const url = new URL(settings.url);
  // rediss:// speaks TLS and checks the server's certificate (against tlsCa when given).
  const tls = url.protocol === "rediss:" ? { ca: settings.tlsCa } : undefined;
  const connection = {
    tls,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    // A command whose connection fails is rejected at once rather than kept for the next
    // connection: GETDEL and INCR are not idempotent, and a caller should not wait on a
    // Redis that is down. Nor is a command sent again after a reconnect, for the same reason.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // close() while Redis is down ends a socket that already failed and never reports
    // 'close' again; ioredis then keeps a timer of this length before it lets go.
    disconnectTimeout: 200,
    Connector: GuardedConnector,
  };
  // Commands issued in the same tick (many requests under load) go out in one write (per node).
  const client = { keyPrefix: settings.keyPrefix, enableAutoPipelining: true };
  if (!settings.cluster) {
    const sentinels = settings.sentinels && sentinelOptions(url, settings.sentinels, settings.tlsCa);
    const Connector = sentinels ? GuardedSentinelConnector : GuardedConnector;
    return new Redis(settings.url, { ...connection, ...sentinels, Connector, ...client, retryStrategy: reconnectDelay });
  }
  return new Cluster([{ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 6379) }], {
    ...client,
    redisOptions: { ...connection, username: decodeURIComponent(url.username) || undefined, password: decodeURIComponent(url.password) || undefined },
    clusterRetryStrategy: reconnectDelay,
    // Moved slots and a cluster that is down are retried (the command never ran), but not a
    // command whose connection closed: it may have run, and it is not idempotent.
    retryDelayOnFailover: 0,
    slotsRefreshTimeout: REDIS_TIMEOUT_MS,
    // Over TLS the nodes are reached by the names they announce, which their certificates
    // carry, rather than by addresses looked up first (ioredis's README, for ElastiCache).
    ...(tls && { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
  });
}

/**
 * ioredis gives a client up for good (status "end") when its connector's connect is rejected,
 * and its SentinelConnector rejects one ("Connection is closed.") when the failover detector
 * hears +switch-master while a reconnect is asking a Sentinel for the master: seen twice in
 * CI, the service then never followed the failover (the symptom ioredis #1683 reports, closed
 * as stale upstream). Until `closed()`, an ended client is started again.
 */
export function keepConnected(redis: Redis | Cluster, closed: () => boolean): void {
  redis.on("end", () => {
    if (closed()) return;
    setTimeout(() => {
      // A failed start ends it again, and this runs again.
      if (!closed() && redis.status === "end") redis.connect().catch(() => {});
    }, RESTART_DELAY_MS);
  });
}

/**
 * The token store shared by every instance of the service. An unreachable Redis makes
 * each operation fail within REDIS_TIMEOUT_MS instead of queueing it, and the client keeps
 * reconnecting in the background, so the service recovers by itself once Redis is back.
 */
export function createRedisStore(settings: RedisStoreSettings): TokenStore {
  const { logger } = settings;
  const redis = connect(settings);
  let closed = false;
  keepConnected(redis, () => closed);
  // EVALSHA with the script's digest, falling back to EVAL once when Redis does not know it yet.
  redis.defineCommand("authIncrement", { numberOfKeys: 1, lua: INCREMENT });
  redis.defineCommand("authConsumeWhere", { numberOfKeys: 1, lua: CONSUME_WHERE });

  let lastError: Error | undefined;
  let loggedAt = 0;
  // Without a listener an 'error' event would be reported on every reconnect attempt;
  // while Redis stays down this logs at most one line per interval.
  redis.on("error", (error: Error) => {
    lastError = error;
    // Known to be down: refuse commands at once instead of queueing each one until the next
    // reconnect attempt fails (up to MAX_RECONNECT_DELAY_MS, for every call of a request).
    // At start, before any error, commands still wait for the first connection.
    redis.options.enableOfflineQueue = false;
    if (Date.now() - loggedAt < ERROR_LOG_INTERVAL_MS) return;
    loggedAt = Date.now();
    logger?.warn({ err: error }, "Redis token store unreachable; reconnecting");
  });
  /**
   * Set when a command got no answer within REDIS_TIMEOUT_MS on an open connection (a server
   * that hangs, a CLIENT PAUSE, a network that drops packets): no error event comes, so
   * without this every call would wait out its own timeout. Until Redis answers a PING again,
   * calls fail at once, as they do while it is known to be down.
   */
  let unanswered: Error | undefined;
  // ioredis's commandTimeout rejects with a plain Error of this message (its Command.js), no class of its own.
  const isTimeout = (error: unknown) => error instanceof Error && error.message === "Command timed out";
  function probeUntilAnswered(): void {
    redis.ping().then(
      () => {
        if (unanswered) logger?.info("Redis token store answering again");
        unanswered = undefined;
      },
      // A refused connection fails the PING at once: the pause keeps that from spinning.
      () => {
        if (!closed) setTimeout(probeUntilAnswered, PROBE_DELAY_MS).unref();
      },
    );
  }

  /** The required commands this server lacks, asked once per connection (a failover may land on another server). */
  let lacking: Promise<string[]> | undefined;
  const askLacking = async () => {
    const answers = await Promise.all(
      Object.entries(REQUIRED_COMMANDS).map(([name, probe]) =>
        probe(redis).then(
          () => null,
          // An error the server answered is the command refused; any other (the connection) is thrown, and asked again.
          (error: unknown) => {
            if (error instanceof ReplyError) return { name, answer: (error as Error).message };
            throw error;
          },
        ),
      ),
    );
    const refused = answers.filter((answer) => answer !== null);
    const missing = refused.map(({ name }) => name);
    if (missing.length) logger?.error({ missing, answers: refused.map(({ answer }) => answer) }, "Redis refuses commands the token store needs (Redis 7.0 or later, allowed to this user): not ready");
    return missing;
  };
  redis.on("ready", () => {
    redis.options.enableOfflineQueue = true;
    // A new connection's ready check was answered.
    unanswered = undefined;
    if (lastError) logger?.info("Redis token store connected again");
    lastError = undefined;
    loggedAt = 0;
    lacking = undefined;
  });

  /**
   * Sends a command, unless Redis has stopped answering (then fails at once), and notices when
   * it has: a timeout on a ready connection. Names the cause when the connection is down,
   * instead of ioredis's retry-limit message.
   */
  async function run<T>(command: () => Promise<T>): Promise<T> {
    if (unanswered) throw new Error(`Redis token store unavailable: no answer within ${REDIS_TIMEOUT_MS} ms`, { cause: unanswered });
    try {
      return await command();
    } catch (error) {
      if (isTimeout(error) && redis.status === "ready" && !unanswered) {
        unanswered = error as Error;
        logger?.warn({ timeoutMs: REDIS_TIMEOUT_MS }, "Redis token store not answering; calls fail at once until it answers a PING");
        probeUntilAnswered();
      }
      if (redis.status === "ready") throw error;
      throw new Error(`Redis token store unavailable: ${lastError?.message ?? (error as Error).message}`, { cause: error });
    }
  }

  return {
    async set(key, value, ttlSeconds) {
      assertTtl(ttlSeconds);
      await run(() => redis.set(key, value, "EX", ttlSeconds));
    },

    async swap(key, value, ttlSeconds) {
      assertTtl(ttlSeconds);
      return run(() => redis.set(key, value, "EX", ttlSeconds, "GET"));
    },

    get: (key) => run(() => redis.get(key)),

    consume: (key) => run(() => redis.getdel(key)),

    async consumeWhere(key, where) {
      const answer = await run(() => redis.authConsumeWhere(key, ...Object.entries(where).flat()));
      return answer && { value: answer[0], consumed: answer[1] === 1 };
    },

    async increment(key, ttlSeconds, by = 1, window) {
      assertTtl(ttlSeconds);
      const [count, ttl, expiresAt] = await run(() => redis.authIncrement(key, ttlSeconds, by, window ?? ""));
      return { count, ttlSeconds: ttl, window: expiresAt };
    },

    async delete(key) {
      await run(() => redis.del(key));
    },

    async ping() {
      // Both at once: the readiness check gives the store REDIS_TIMEOUT_MS in all.
      const [, missing] = await Promise.all([
        run(() => redis.ping()),
        // A question that failed (not answered) is asked again at the next ping rather than taken for an answer.
        (lacking ??= run(askLacking).catch((error: unknown) => {
          lacking = undefined;
          throw error;
        })),
      ]);
      if (missing.length) throw new Error(`Redis refuses ${missing.join(", ")}: the token store needs Redis 7.0 or later, with these commands allowed`);
    },

    async close() {
      closed = true;
      // QUIT lets replies in flight arrive; with Redis gone there is nothing to wait for.
      await redis.quit().catch(() => redis.disconnect());
      // QUIT leaves the failover detector's Sentinel subscriptions open (ioredis #1362, fixed
      // after 6.0.0 by #2198): disconnect() closes them.
      if (settings.sentinels) redis.disconnect();
    },
  };
}

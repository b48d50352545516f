import ipaddr from "ipaddr.js";
import type { Config, RateLimitedOperation, RateLimitRule } from "../config";
import type { Logger } from "../logger";
import type { TokenStore } from "../store/token-store";
import type { ClientInfo } from "./sessions";
import { normalizeEmail } from "./emails";
import { hashToken } from "./opaque-tokens";

export interface Hit {
  /** Calls counted in the current window, this one included. */
  count: number;
  /** Seconds until the window closes and the count starts over. */
  retryAfter: number;
  /** Gives this call's count back (a login that succeeded is not a failed attempt). */
  release(): Promise<void>;
}

export type RateLimits = ReturnType<typeof createRateLimits>;

// Some proxies (Azure Application Gateway, App Service) append the client's source port to the
// address they write in X-Forwarded-For: 203.0.113.5:51234, [2001:db8::1]:443.
const WITH_PORT = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}|\[([^\]]+)\](?::\d{1,5})?)$/;

/** The address, less a port its proxy wrote after it; null when it is no IP address. */
function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const match = WITH_PORT.exec(ip);
  const address = match ? (match[1] ?? match[2] ?? "") : ip;
  return ipaddr.isValid(address) ? ipaddr.process(address) : null;
}

/**
 * The client a per-address rule counts. An IPv6 host is given a whole /64 (RFC 6177), and
 * picks any address in it at will: counted per address, it could rotate through 2^64 of
 * them. An IPv4 address written as IPv6 (::ffff:192.0.2.1, a dual-stack socket) counts as itself,
 * and so does an address with a source port (a new one each connection).
 * Clients whose address is unknown (one that resets its connection at once leaves none to
 * read) or is no IP address share one count, rather than escaping the rule: counted per
 * string, each spelling would be a fresh limit.
 */
export function addressBucket(ip: string | null): string {
  const address = ip === null ? null : parseAddress(ip);
  if (!address) return "unknown";
  return address.kind() === "ipv6" ? `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/64`).toString()}/64` : address.toString();
}

/** Who a rule by email counts: the address as normalised (its case or spaces buy nothing), hashed (one key size whatever is sent; Redis holds no addresses). */
export function emailSubject(email: string): string {
  return `email:${hashToken(normalizeEmail(email))}`;
}

/**
 * Fixed-window counters in the token store. Counting is one atomic INCR (a Lua step in
 * Redis, a synchronous one in memory), so a burst of concurrent calls, aliases in one
 * request, or several instances sharing Redis all see every call: none can slip in
 * between a read and a write.
 */
export function createRateLimits(deps: { store: TokenStore; config: Config["rateLimits"]; logger: Logger }) {
  const { store, config, logger } = deps;
  // An operation has one rule per kind of subject, and the subject names its kind (ip:, email:, user:).
  const counterKey = (operation: RateLimitedOperation, subject: string) => `rl:${operation}:${subject}`;

  return {
    rulesFor(operation: RateLimitedOperation): readonly RateLimitRule[] {
      return config[operation];
    },

    /**
     * Counts one call of `operation` by `subject` (see emailSubject). When the store cannot be
     * reached the call is let through (and logged): an outage of Redis should not also take
     * sign-in down; argon2 still bounds guessing.
     */
    async hit(operation: RateLimitedOperation, rule: RateLimitRule, subject: string, client: Pick<ClientInfo, "requestId">): Promise<Hit> {
      const key = counterKey(operation, subject);
      let counted: { count: number; ttlSeconds: number; window: number };
      try {
        counted = await store.increment(key, rule.windowSeconds);
      } catch (error) {
        logger.error({ err: error, operation, requestId: client.requestId }, "rate limit store unavailable; call not counted");
        return { count: 0, retryAfter: 0, release: async () => {} };
      }
      const { count, ttlSeconds, window } = counted;
      return {
        count,
        retryAfter: Math.max(1, ttlSeconds),
        // Only within the window it was counted in: given back to the next one, calls refused at
        // the end of a window would each make room for one more in the next (a flood kept in
        // flight across the boundary got twice the limit through).
        release: async () => {
          await store.increment(key, rule.windowSeconds, -1, window).catch(() => {});
        },
      };
    },

    /**
     * After a reset has proved the address is its owner's: the failed logins counted against it
     * (a guesser's, most likely) no longer keep the owner from signing in with the new password.
     */
    async forgetFailedLogins(email: string, client: Pick<ClientInfo, "requestId">): Promise<void> {
      if (!config.login.some((rule) => rule.by === "email" && rule.failuresOnly)) return;
      await store
        .delete(counterKey("login", emailSubject(email)))
        .catch((error: unknown) => logger.error({ err: error, requestId: client.requestId }, "failed logins not forgotten after a reset"));
    },
  };
}

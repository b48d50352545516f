import type { Role } from "../db/schema";
import type { Metrics } from "../http/metrics";
import type { Logger } from "../logger";

export type SecurityEvents = ReturnType<typeof createSecurityEvents>;

export type LoginFailure = "unknown_email" | "wrong_password" | "inactive";

/**
 * The events an operator alerts on or an audit searches for: one log line each, with an
 * `event` field, ids and the client address, never an email address (people type
 * passwords into the email field), a password or a token; and the matching metric.
 */
export function createSecurityEvents(deps: { logger: Logger; metrics: Metrics }) {
  const { logger, metrics } = deps;

  return {
    loginSucceeded(userId: string, ip: string | null): void {
      metrics.logins.inc({ outcome: "success" });
      logger.info({ event: "login_succeeded", userId, ip }, "login succeeded");
    },

    /** `userId` is null for an address without an account. */
    loginFailed(userId: string | null, reason: LoginFailure, ip: string | null): void {
      metrics.logins.inc({ outcome: "failure" });
      logger.info({ event: "login_failed", userId, reason, ip }, "login failed");
    },

    passwordChanged(userId: string): void {
      logger.info({ event: "password_changed", userId }, "password changed");
    },

    /** A retired refresh token came back: two parties held it, and its session was ended. */
    refreshTokenReused(userId: string, sessionId: string): void {
      metrics.refreshTokenReuse.inc();
      logger.warn({ event: "refresh_token_reuse", userId, sessionId }, "refresh token reuse detected; session ended");
    },

    accountDeactivated(userId: string, adminId: string): void {
      logger.warn({ event: "account_deactivated", userId, adminId }, "account deactivated");
    },

    roleChanged(userId: string, role: Role, adminId: string): void {
      logger.warn({ event: "role_changed", userId, role, adminId }, "role changed");
    },

    /** The rate limiter logs the hit itself (event "rate_limited"); this counts it. */
    rateLimited(operation: string): void {
      metrics.rateLimitHits.inc({ operation });
    },
  };
}

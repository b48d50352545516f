import type { RateLimitRule } from "../config";
import type { Role } from "../db/schema";
import type { Metrics } from "../http/metrics";
import type { Logger } from "../logger";
import type { ClientInfo } from "./sessions";

export type SecurityEvents = ReturnType<typeof createSecurityEvents>;

/** account_changed: the password was right, but the account changed (password, active) while it was checked. */
export type LoginFailure = "unknown_email" | "wrong_password" | "inactive" | "account_changed";

/**
 * The events an operator alerts on or an audit searches for, all here: one log line each,
 * with an `event` field, ids, the client's address and the request id (which joins the
 * request's own line), never an email address (people type passwords into the email
 * field), a password or a token; and the matching metric.
 */
export function createSecurityEvents(deps: { logger: Logger; metrics: Metrics }) {
  const { logger, metrics } = deps;
  const origin = (client: ClientInfo) => ({ ip: client.ip, requestId: client.requestId });

  return {
    /** `newDevice`: from a device the account had not signed in from (Sessions.start). */
    loginSucceeded(userId: string, newDevice: boolean, client: ClientInfo): void {
      metrics.logins.inc({ outcome: "success" });
      logger.info({ event: "login_succeeded", userId, newDevice, ...origin(client) }, "login succeeded");
    },

    /** `userId` is null for an address without an account. */
    loginFailed(userId: string | null, reason: LoginFailure, client: ClientInfo): void {
      metrics.logins.inc({ outcome: "failure" });
      logger.info({ event: "login_failed", userId, reason, ...origin(client) }, "login failed");
    },

    passwordChanged(userId: string, client: ClientInfo): void {
      logger.info({ event: "password_changed", userId, ...origin(client) }, "password changed");
    },

    passwordResetRequested(userId: string, client: ClientInfo): void {
      logger.info({ event: "password_reset_requested", userId, ...origin(client) }, "password reset requested");
    },

    passwordReset(userId: string, client: ClientInfo): void {
      logger.info({ event: "password_reset", userId, ...origin(client) }, "password reset");
    },

    emailVerified(userId: string, client: ClientInfo): void {
      logger.info({ event: "email_verified", userId, ...origin(client) }, "email verified");
    },

    emailChangeRequested(userId: string, client: ClientInfo): void {
      logger.info({ event: "email_change_requested", userId, ...origin(client) }, "email change requested");
    },

    /** Neither address is logged: the account's id joins the two events. */
    emailChanged(userId: string, client: ClientInfo): void {
      logger.warn({ event: "email_changed", userId, ...origin(client) }, "email changed");
    },

    /** Through the link sent to the address the account left (revertEmailChange): its sessions ended. */
    emailChangeReverted(userId: string, client: ClientInfo): void {
      logger.warn({ event: "email_change_reverted", userId, ...origin(client) }, "email change reverted");
    },

    /** A retired refresh token came back: two parties held it, and its session was ended. */
    refreshTokenReused(userId: string, sessionId: string, client: ClientInfo): void {
      metrics.refreshTokenReuse.inc();
      logger.warn({ event: "refresh_token_reuse", userId, sessionId, ...origin(client) }, "refresh token reuse detected; session ended");
    },

    /** By its owner, with its password, or by an admin (`adminId`). */
    accountDeleted(userId: string, client: ClientInfo, adminId?: string): void {
      logger.warn({ event: "account_deleted", userId, ...(adminId && { adminId }), ...origin(client) }, "account deleted");
    },

    accountDeactivated(userId: string, adminId: string, client: ClientInfo): void {
      logger.warn({ event: "account_deactivated", userId, adminId, ...origin(client) }, "account deactivated");
    },

    accountReactivated(userId: string, adminId: string, client: ClientInfo): void {
      logger.warn({ event: "account_reactivated", userId, adminId, ...origin(client) }, "account reactivated");
    },

    roleChanged(userId: string, role: Role, adminId: string, client: ClientInfo): void {
      logger.warn({ event: "role_changed", userId, role, adminId, ...origin(client) }, "role changed");
    },

    /**
     * One refused call: counted once, however many of its rules refused it, and logged once per
     * rule that did. `operation` is the root field called, `limit` the rule set it was counted
     * against (deleteAccount counts against changePassword's, to share one budget of password
     * guesses). Each rule says what it counts by; an address or an email is not logged, only the
     * caller's id of a rule by user.
     */
    rateLimited(call: { operation: string; limit: string }, refused: readonly { rule: RateLimitRule; userId?: string }[], client: ClientInfo): void {
      metrics.rateLimitHits.inc({ operation: call.operation });
      for (const { rule, userId } of refused) {
        logger.warn({ event: "rate_limited", operation: call.operation, limit: call.limit, by: rule.by, userId, ...origin(client) }, "rate limit hit");
      }
    },
  };
}

import type { Logger } from "../logger";
import { accountChangedByAdminMessage, accountDeletedMessage, emailChangedMessage, emailChangeRevertedMessage, emailChangeMessage, emailVerificationMessage, newSignInMessage, passwordChangedMessage, passwordResetMessage, type AdminChange, type MessageContent } from "./messages";
import type { MailTransport } from "./transports";

export type Mailer = ReturnType<typeof createMailer>;

/** Who an email is for and which request sent it, for the log line of a failed send. */
export interface MailContext {
  userId?: string;
  requestId?: string | null;
}

// A local part may hold an apostrophe (o'brien@…); a domain may not, so a quote after it ends it.
const ADDRESS = /[^\s<>"(),;:]+@[^\s<>"'(),;:]+/g;

/**
 * A failed send as the log may keep it: nodemailer's error lists the refused recipients, and
 * its message quotes the server's answer, which names them; every address in them is blanked.
 */
function sendFailure(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: "not an Error" };
  const { code, responseCode, command } = error as Error & { code?: unknown; responseCode?: unknown; command?: unknown };
  return { type: error.name, message: error.message.replace(ADDRESS, "[address]"), code, responseCode, command };
}

/**
 * Which email to send and where its link points. Links are the contract's
 * `${frontendUrl}/reset-password?token=…` and `${frontendUrl}/verify-email?token=…`.
 */
export function createMailer(deps: { transport: MailTransport; from: string; frontendUrl: string; logger: Logger }) {
  const { transport, from, logger } = deps;
  const frontendUrl = deps.frontendUrl.replace(/\/+$/, "");
  const link = (path: string, token: string) => `${frontendUrl}/${path}?token=${encodeURIComponent(token)}`;

  async function send(kind: string, to: string, content: MessageContent, context: MailContext): Promise<void> {
    try {
      await transport.send({ from, to, ...content });
    } catch (error) {
      // The caller decides what a failed send means; the log says which kind failed, for which
      // account and request, without the token (the body is not logged) or the address (logs
      // name accounts by id only). Sent in the background, the line comes after the request's.
      logger.error({ err: sendFailure(error), kind, userId: context.userId, requestId: context.requestId ?? undefined }, "email could not be sent");
      throw error;
    }
  }

  return {
    sendPasswordReset(to: string, token: string, ttlSeconds: number, context: MailContext = {}): Promise<void> {
      return send("password_reset", to, passwordResetMessage(link("reset-password", token), ttlSeconds), context);
    },

    sendEmailVerification(to: string, token: string, ttlSeconds: number, context: MailContext = {}): Promise<void> {
      return send("email_verification", to, emailVerificationMessage(link("verify-email", token), ttlSeconds), context);
    },

    /** To the new address of an account: its link, the contract's verify-email one, makes the change. */
    sendEmailChange(to: string, token: string, ttlSeconds: number, context: MailContext = {}): Promise<void> {
      return send("email_change", to, emailChangeMessage(link("verify-email", token), ttlSeconds), context);
    },

    /**
     * A notice to the address an account had, that it moved to `newEmail` at `at`, with the link
     * (`${frontendUrl}/revert-email?token=…`) that undoes the change.
     */
    sendEmailChanged(to: string, newEmail: string, at: Date, revert: { token: string; ttlSeconds: number }, context: MailContext = {}): Promise<void> {
      return send("email_changed", to, emailChangedMessage(newEmail, at, { link: link("revert-email", revert.token), ttlSeconds: revert.ttlSeconds }), context);
    },

    /** A notice, without a link, to the address a revert took from the account at `at`. */
    sendEmailChangeReverted(to: string, at: Date, context: MailContext = {}): Promise<void> {
      return send("email_change_reverted", to, emailChangeRevertedMessage(at), context);
    },

    /** A notice, without a link, that the account's password was changed or reset at `at`. */
    sendPasswordChanged(to: string, how: "changed" | "reset", at: Date, context: MailContext = {}): Promise<void> {
      return send("password_changed", to, passwordChangedMessage(how, at), context);
    },

    /** A notice, without a link, that an admin deactivated, reactivated, promoted or demoted the account at `at`. */
    sendAccountChangedByAdmin(to: string, change: AdminChange, at: Date, context: MailContext = {}): Promise<void> {
      return send(`account_${change}`, to, accountChangedByAdminMessage(change, at), context);
    },

    /** A notice, without a link, of a sign-in at `at` from a device the account had not been signed in from. */
    sendNewSignIn(to: string, client: { userAgent: string | null; ip: string | null }, at: Date, context: MailContext = {}): Promise<void> {
      return send("new_sign_in", to, newSignInMessage(client, at), context);
    },

    /** A notice, without a link, that the account was deleted at `at`, by its owner or by an admin. */
    sendAccountDeleted(to: string, by: "owner" | "admin", at: Date, context: MailContext = {}): Promise<void> {
      return send("account_deleted", to, accountDeletedMessage(by, at), context);
    },
  };
}

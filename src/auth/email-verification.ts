import type { BackgroundWork } from "../background";
import type { UserRow } from "../db/schema";
import { emailTaken, invalidToken } from "../errors";
import type { Logger } from "../logger";
import type { Mailer } from "../mail/mailer";
import type { TokenStore } from "../store/token-store";
import type { AccountNotices } from "./account-notices";
import { generateToken, hashToken } from "./opaque-tokens";
import type { SecurityEvents } from "./security-events";
import type { ClientInfo } from "./sessions";
import type { Users } from "./users";

export type EmailVerification = ReturnType<typeof createEmailVerification>;

const tokenKey = (hash: string) => `verify:${hash}`;
// The hash of an account's newest address-change token: only that one makes the change.
const latestChangeKey = (userId: string) => `email-change-latest:${userId}`;
// The hash of an account's newest verification token: only that one verifies the address.
const latestVerificationKey = (userId: string) => `verify-latest:${userId}`;

/**
 * What a token stands for: the account and the address its link was sent to. A change also
 * holds the account's token version when it was asked for: a password change or reset, a
 * deactivation or a role change since retires it, as it retires reset links.
 */
interface Grant {
  userId: string;
  email: string;
  change?: { tokenVersion: number };
}

export function createEmailVerification(deps: {
  store: TokenStore;
  users: Users;
  mailer: Mailer;
  background: BackgroundWork;
  logger: Logger;
  events: Pick<SecurityEvents, "emailVerified" | "emailChangeRequested" | "emailChanged">;
  notices: Pick<AccountNotices, "emailChanged" | "enabled">;
  config: { ttl: number; revertTtl: number };
}) {
  const { store, users, mailer, background, logger, events, notices, config } = deps;

  /**
   * Stores a token bound to the account and its current address, and emails the link. It
   * replaces the account's previous verification link, as a new reset link replaces the last
   * (password-reset.ts): of concurrent requests, the last swapped in stays usable.
   */
  async function send(user: Pick<UserRow, "id" | "email" | "emailVerified">, client: Pick<ClientInfo, "requestId">): Promise<boolean> {
    if (user.emailVerified) return true;
    const token = generateToken();
    const hash = hashToken(token);
    await store.set(tokenKey(hash), JSON.stringify({ userId: user.id, email: user.email } satisfies Grant), config.ttl);
    const previous = await store.swap(latestVerificationKey(user.id), hash, config.ttl);
    if (previous) await store.delete(tokenKey(previous));
    // Sent in the background: a slow or failing mail server (logged by the mailer) never fails the caller.
    const context = { userId: user.id, requestId: client.requestId };
    background.run(() => mailer.sendEmailVerification(user.email, token, config.ttl, context), () => {});
    return true;
  }

  /**
   * Makes `email` the account's address, when the token (`hash`) is the newest change asked for,
   * and tells the address it left, with a link that undoes the change (revertEmailChange).
   */
  async function change(user: UserRow, email: string, asked: { tokenVersion: number }, hash: string, client: ClientInfo): Promise<UserRow> {
    if ((await store.get(latestChangeKey(user.id))) !== hash) throw invalidToken();
    // With notices off nobody would get the link: none is made (the deployment's own notice has
    // to offer a way back), and nothing holds the account's deletion back (Accounts.deleteAccount).
    // Nor for an address never verified: whoever reads it never proved it theirs (a mistyped
    // address on someone else's domain, say), so it is told nothing and keeps no way in.
    const revertToken = notices.enabled && user.emailVerified ? generateToken() : null;
    const revert = revertToken ? { tokenHash: hashToken(revertToken), ttlSeconds: config.revertTtl } : null;
    const changed = await users.changeEmail({ id: user.id, email: user.email, tokenVersion: asked.tokenVersion }, email, revert);
    if (changed === "taken") throw emailTaken();
    if (!changed) throw invalidToken();
    // The record of the newest link is left to expire: the token it names is spent.
    events.emailChanged(user.id, client);
    if (revertToken) notices.emailChanged(user, changed.email, { token: revertToken, ttlSeconds: config.revertTtl }, client);
    return changed;
  }

  return {
    send,

    /**
     * Emails `email` a link that makes it the account's address once opened (verify). It
     * replaces the account's previous such link: the swap is atomic, so of concurrent requests
     * one link stays usable, the last swapped in.
     */
    async sendChange(user: Pick<UserRow, "id" | "tokenVersion">, email: string, client: ClientInfo): Promise<void> {
      const token = generateToken();
      const hash = hashToken(token);
      await store.set(tokenKey(hash), JSON.stringify({ userId: user.id, email, change: { tokenVersion: user.tokenVersion } } satisfies Grant), config.ttl);
      const previous = await store.swap(latestChangeKey(user.id), hash, config.ttl);
      if (previous) await store.delete(tokenKey(previous));
      events.emailChangeRequested(user.id, client);
      const context = { userId: user.id, requestId: client.requestId };
      background.run(() => mailer.sendEmailChange(email, token, config.ttl, context), () => {});
    },

    /**
     * The address the account's newest change link was sent to, while that link can still make
     * the change: not yet opened or expired, nor retired by a new token version. Null otherwise.
     */
    async pendingChange(user: Pick<UserRow, "id" | "tokenVersion">): Promise<string | null> {
      const hash = await store.get(latestChangeKey(user.id));
      const stored = hash ? await store.get(tokenKey(hash)) : null;
      if (!stored) return null;
      const grant = JSON.parse(stored) as Grant;
      return grant.change?.tokenVersion === user.tokenVersion ? grant.email : null;
    },

    /**
     * Retires the account's change link, if any: the record of the newest first, which alone
     * lets a link make the change (verify), then the token it names.
     */
    async cancelChange(userId: string): Promise<void> {
      const hash = await store.consume(latestChangeKey(userId));
      if (hash) await store.delete(tokenKey(hash));
    },

    /**
     * At registration the account already exists: a token store outage must not turn that
     * into an error (a retry would then meet EMAIL_TAKEN). The user can ask for another link.
     */
    async sendAfterRegistration(user: Pick<UserRow, "id" | "email" | "emailVerified">, client: Pick<ClientInfo, "requestId">): Promise<void> {
      await send(user, client).catch((error: unknown) => {
        logger.error({ err: error, userId: user.id, requestId: client.requestId }, "verification email not sent after registration");
      });
    },

    /**
     * Spends the token once and marks the address verified; a change's token makes its address
     * the account's, verified.
     */
    async verify(token: string, client: ClientInfo): Promise<UserRow> {
      const hash = hashToken(token);
      const stored = await store.consume(tokenKey(hash));
      if (!stored) throw invalidToken();
      const grant = JSON.parse(stored) as Grant;
      const user = await users.findById(grant.userId);
      if (!user?.active) throw invalidToken();
      if (grant.change) return change(user, grant.email, grant.change, hash, client);
      // Only the newest link: should the record of which one that is be lost (a Redis that
      // evicts keys), an earlier link, which the next request could not delete, must not work.
      if (user.email !== grant.email || (await store.get(latestVerificationKey(user.id))) !== hash) throw invalidToken();
      const verified = user.emailVerified ? user : await users.markEmailVerified(user.id);
      events.emailVerified(user.id, client);
      return verified ?? user;
    },
  };
}

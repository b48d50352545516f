import type { BackgroundWork } from "../background";
import type { UserRow } from "../db/schema";
import { invalidToken } from "../errors";
import type { Logger } from "../logger";
import type { Mailer } from "../mail/mailer";
import type { TokenStore } from "../store/token-store";
import { generateToken, hashToken } from "./opaque-tokens";
import type { SecurityEvents } from "./security-events";
import type { ClientInfo } from "./sessions";
import type { Users } from "./users";

export type EmailVerification = ReturnType<typeof createEmailVerification>;

const tokenKey = (hash: string) => `verify:${hash}`;

export function createEmailVerification(deps: {
  store: TokenStore;
  users: Users;
  mailer: Mailer;
  background: BackgroundWork;
  logger: Logger;
  events: Pick<SecurityEvents, "emailVerified">;
  config: { ttl: number };
}) {
  const { store, users, mailer, background, logger, events, config } = deps;

  /** Stores a token bound to the account and its current address, and emails the link. */
  async function send(user: Pick<UserRow, "id" | "email" | "emailVerified">, client: Pick<ClientInfo, "requestId">): Promise<boolean> {
    if (user.emailVerified) return true;
    const token = generateToken();
    await store.set(tokenKey(hashToken(token)), JSON.stringify({ userId: user.id, email: user.email }), config.ttl);
    // Sent in the background: a slow or failing mail server (logged by the mailer) never fails the caller.
    const context = { userId: user.id, requestId: client.requestId };
    background.run(() => mailer.sendEmailVerification(user.email, token, config.ttl, context), () => {});
    return true;
  }

  return {
    send,

    /**
     * At registration the account already exists: a token store outage must not turn that
     * into an error (a retry would then meet EMAIL_TAKEN). The user can ask for another link.
     */
    async sendAfterRegistration(user: Pick<UserRow, "id" | "email" | "emailVerified">, client: Pick<ClientInfo, "requestId">): Promise<void> {
      await send(user, client).catch((error: unknown) => {
        logger.error({ err: error, userId: user.id, requestId: client.requestId }, "verification email not sent after registration");
      });
    },

    /** Spends the token once and marks the address verified. */
    async verify(token: string, client: ClientInfo): Promise<UserRow> {
      const stored = await store.consume(tokenKey(hashToken(token)));
      if (!stored) throw invalidToken();
      const { userId, email } = JSON.parse(stored) as { userId: string; email: string };
      const user = await users.findById(userId);
      if (!user?.active || user.email !== email) throw invalidToken();
      const verified = user.emailVerified ? user : await users.markEmailVerified(user.id);
      events.emailVerified(user.id, client);
      return verified ?? user;
    },
  };
}

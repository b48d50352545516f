import type { BackgroundWork } from "../background";
import type { Config } from "../config";
import type { UserRow } from "../db/schema";
import { invalidToken } from "../errors";
import type { Logger } from "../logger";
import type { Mailer } from "../mail/mailer";
import type { TokenStore } from "../store/token-store";
import { checkEmail } from "./emails";
import { generateToken, hashToken } from "./opaque-tokens";
import type { AccountNotices } from "./account-notices";
import type { PasswordHasher } from "./passwords";
import type { RateLimits } from "./rate-limits";
import type { SecurityEvents } from "./security-events";
import { checkPassword } from "./password-policy";
import type { ClientInfo } from "./sessions";
import type { Users } from "./users";

export type PasswordReset = ReturnType<typeof createPasswordReset>;

const tokenKey = (hash: string) => `reset:${hash}`;
// What a token stands for: the account, at the token version it had when the link was sent.
// A password change or reset, a deactivation or a role change since (each bumps it) retires the link.
const grant = (user: Pick<UserRow, "id" | "tokenVersion">) => `${user.id}:${user.tokenVersion}`;
// The hash of an account's newest reset token, so that the next request can spend it.
const latestKey = (userId: string) => `reset-latest:${userId}`;

export function createPasswordReset(deps: {
  store: TokenStore;
  users: Users;
  passwords: PasswordHasher;
  mailer: Mailer;
  background: BackgroundWork;
  logger: Logger;
  events: Pick<SecurityEvents, "passwordResetRequested" | "passwordReset">;
  rateLimits: Pick<RateLimits, "forgetFailedLogins">;
  notices: Pick<AccountNotices, "passwordChanged">;
  config: { ttl: number; policy: Config["passwords"] };
}) {
  const { store, users, passwords, mailer, background, logger, events, rateLimits, notices, config } = deps;

  async function issue(user: UserRow, client: ClientInfo): Promise<void> {
    const token = generateToken();
    const hash = hashToken(token);
    await store.set(tokenKey(hash), grant(user), config.ttl);
    // The new token replaces the previous one. The swap is atomic, so of concurrent requests
    // each deletes the token it replaced and one link stays usable: the last swapped in.
    const previous = await store.swap(latestKey(user.id), hash, config.ttl);
    if (previous) await store.delete(tokenKey(previous));
    events.passwordResetRequested(user.id, client);
    // A failed send is logged by the mailer.
    await mailer.sendPasswordReset(user.email, token, config.ttl, { userId: user.id, requestId: client.requestId }).catch(() => {});
  }

  return {
    /**
     * Always resolves to true, once the address is looked up. The token and its email are made
     * in the background, so neither the time the answer takes nor a failure (of the token
     * store, of SMTP: logged) tells whether the address has an account.
     */
    async request(email: string, client: ClientInfo): Promise<boolean> {
      const user = await users.findByEmail(checkEmail(email));
      if (user?.active) {
        background.run(
          () => issue(user, client),
          (error) => logger.error({ err: error, userId: user.id, requestId: client.requestId }, "password reset token not stored"),
        );
      }
      return true;
    },

    /** Spends the token (once, even when raced), sets the password and ends every session. */
    async reset(token: string, newPassword: string, client: ClientInfo): Promise<boolean> {
      const hash = hashToken(token);
      // Check the new password before spending the token, so a refused password loses nothing.
      const granted = await store.get(tokenKey(hash));
      const user = granted ? await users.findById(granted.split(":")[0] ?? "") : null;
      if (!user?.active || granted !== grant(user)) throw invalidToken();
      // Only the newest link: should the record of which one that is be lost (a Redis that
      // evicts keys), an earlier link, whose token the next request could not delete, must not work.
      if ((await store.get(latestKey(user.id))) !== hash) throw invalidToken();
      const password = checkPassword(config.policy, newPassword, "newPassword", user.email, user.name);
      // Hashed before the token is spent, so a hasher too busy to take it loses nothing either.
      const passwordHash = await passwords.hash(password);

      if ((await store.consume(tokenKey(hash))) !== granted) throw invalidToken();

      // A change or deactivation that landed while the hash ran stands; the link is spent.
      if (!(await users.setPassword(user.id, passwordHash, { tokenVersion: user.tokenVersion, verifiesEmail: true, reason: "password_reset" }))) throw invalidToken();
      await rateLimits.forgetFailedLogins(user.email, client);
      events.passwordReset(user.id, client);
      notices.passwordChanged(user, "reset", client);
      return true;
    },
  };
}

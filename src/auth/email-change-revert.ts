import type { Config } from "../config";
import { emailTaken, invalidToken } from "../errors";
import type { AccountNotices } from "./account-notices";
import { hashToken } from "./opaque-tokens";
import { checkPassword } from "./password-policy";
import type { PasswordHasher } from "./passwords";
import type { RateLimits } from "./rate-limits";
import type { SecurityEvents } from "./security-events";
import type { ClientInfo } from "./sessions";
import type { Users } from "./users";

export type EmailChangeRevert = ReturnType<typeof createEmailChangeRevert>;

/**
 * The way back from an address change the owner did not make: whoever changed it knew the
 * password, and from then on the reset links go to their address. The notice to the address
 * left carries a token (EmailVerification's change); spending it gives the account that address
 * back, with a new password, and ends every session (Users.revertEmailChange). It is not bound
 * to the token version, as the reset links are: a password changed by the thief must not void it.
 */
export function createEmailChangeRevert(deps: {
  users: Users;
  passwords: PasswordHasher;
  events: Pick<SecurityEvents, "emailChangeReverted">;
  rateLimits: Pick<RateLimits, "forgetFailedLogins">;
  notices: Pick<AccountNotices, "emailChangeReverted">;
  config: { policy: Config["passwords"] };
}) {
  const { users, passwords, events, rateLimits, notices, config } = deps;

  return {
    /** Spends the token (once, even when raced); a refused password or a taken address loses nothing. */
    async revert(token: string, newPassword: string, client: ClientInfo): Promise<boolean> {
      const found = await users.findRevertableEmailChange(hashToken(token));
      if (!found?.user.active) throw invalidToken();
      const { change, user } = found;
      const password = checkPassword(config.policy, newPassword, "newPassword", change.previousEmail, user.name);
      const passwordHash = await passwords.hash(password);

      const reverted = await users.revertEmailChange(change, passwordHash);
      if (reverted === "taken") throw emailTaken("token");
      if (!reverted) throw invalidToken();
      await rateLimits.forgetFailedLogins(reverted.user.email, client);
      events.emailChangeReverted(reverted.user.id, client);
      if (reverted.left !== reverted.user.email) notices.emailChangeReverted({ id: reverted.user.id, email: reverted.left }, client);
      return true;
    },
  };
}

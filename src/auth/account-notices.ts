import type { BackgroundWork } from "../background";
import type { UserRow } from "../db/schema";
import type { MailContext, Mailer } from "../mail/mailer";
import type { AdminChange } from "../mail/messages";
import type { TokenStore } from "../store/token-store";
import type { ClientInfo } from "./sessions";

export type AccountNotices = ReturnType<typeof createAccountNotices>;

type Owner = Pick<UserRow, "id" | "email">;

/**
 * New-device notices per account and hour: someone holding the password could sign in with a
 * new user agent again and again, and have the service mail the owner on and on. The first
 * ones already say what to do.
 */
export const NEW_SIGN_IN_NOTICES_PER_HOUR = 3;
const newSignInKey = (userId: string) => `notice-new-sign-in:${userId}`;

/**
 * Emails that tell an account's owner of a change they may not have made themselves: a new
 * password (changed while signed in, or reset through an emailed link), a new address (told
 * to the old one, and its return), what an admin changed (a deactivation, a reactivation, a
 * role), the account's deletion, and a sign-in from a device it had not been signed in from.
 * NIST SP 800-63B asks for such a notice when an authenticator changes; the owner is the one who can tell a stolen session or mailbox from
 * their own doing. The notice of a new address also carries the one way back for an owner whose
 * password was stolen (the thief's address now gets the reset links): a link that undoes it.
 * Each is sent once the change is written, in the background: a slow or failing mail server
 * (logged by the mailer) neither delays the answer nor undoes the change.
 * ACCOUNT_NOTICES=false leaves them to the deployment (the security events in the log say the
 * same, by account id).
 */
export function createAccountNotices(deps: {
  mailer: Pick<Mailer, "sendPasswordChanged" | "sendAccountDeleted" | "sendEmailChanged" | "sendEmailChangeReverted" | "sendAccountChangedByAdmin" | "sendNewSignIn">;
  store: Pick<TokenStore, "increment">;
  background: BackgroundWork;
  enabled: boolean;
  now?: () => Date;
}) {
  const { mailer, store, background, enabled } = deps;
  const now = deps.now ?? (() => new Date());

  /** Runs `task` in the background with the moment of the change, which is now. */
  function send(owner: Owner, client: Pick<ClientInfo, "requestId">, task: (at: Date, context: MailContext) => Promise<void>): void {
    if (!enabled) return;
    const at = now();
    background.run(() => task(at, { userId: owner.id, requestId: client.requestId }), () => {});
  }

  return {
    /** Off, nobody gets the link that undoes an address change: none is made. */
    enabled,

    passwordChanged(owner: Owner, how: "changed" | "reset", client: Pick<ClientInfo, "requestId">): void {
      send(owner, client, (at, context) => mailer.sendPasswordChanged(owner.email, how, at, context));
    },

    /** To the address the account had (`owner.email`), with the link that undoes the change. */
    emailChanged(owner: Owner, newEmail: string, revert: { token: string; ttlSeconds: number }, client: Pick<ClientInfo, "requestId">): void {
      send(owner, client, (at, context) => mailer.sendEmailChanged(owner.email, newEmail, at, revert, context));
    },

    /** To the address a revert took from the account (`owner.email`). */
    emailChangeReverted(owner: Owner, client: Pick<ClientInfo, "requestId">): void {
      send(owner, client, (at, context) => mailer.sendEmailChangeReverted(owner.email, at, context));
    },

    /** What an admin changed: the owner learns of a deactivation, a reactivation or a new role from here. */
    changedByAdmin(owner: Owner, change: AdminChange, client: Pick<ClientInfo, "requestId">): void {
      send(owner, client, (at, context) => mailer.sendAccountChangedByAdmin(owner.email, change, at, context));
    },

    accountDeleted(owner: Owner, by: "owner" | "admin", client: Pick<ClientInfo, "requestId">): void {
      send(owner, client, (at, context) => mailer.sendAccountDeleted(owner.email, by, at, context));
    },

    /**
     * A login from a device the account had not been signed in from (Sessions.start), up to
     * NEW_SIGN_IN_NOTICES_PER_HOUR. A store that cannot count lets the notice go.
     */
    newSignIn(owner: Owner, client: ClientInfo): void {
      send(owner, client, async (at, context) => {
        const counted = await store.increment(newSignInKey(owner.id), 3600).catch(() => null);
        if (counted && counted.count > NEW_SIGN_IN_NOTICES_PER_HOUR) return;
        await mailer.sendNewSignIn(owner.email, client, at, context);
      });
    },
  };
}

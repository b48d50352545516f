import type { Config } from "../config";
import type { UserRow } from "../db/schema";
import { badInput, emailTaken, forbidden, invalidAccessToken, invalidRefreshToken, unauthenticated } from "../errors";
import { describeMoment } from "../mail/messages";
import type { AccessTokens } from "./access-tokens";
import type { AccountNotices } from "./account-notices";
import type { EmailVerification } from "./email-verification";
import { checkEmail } from "./emails";
import { isBusy, type PasswordHasher } from "./passwords";
import { checkPassword, normalizePassword } from "./password-policy";
import type { SecurityEvents } from "./security-events";
import type { ClientInfo, IssuedRefreshToken, Sessions } from "./sessions";
import type { Users } from "./users";
import { characterCount, CONTROL_CHARACTER, UNPAIRED_SURROGATE } from "./text";

/** The authenticated caller: an account and the session its access token belongs to. */
export interface Viewer {
  user: UserRow;
  sessionId: string;
}

export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: UserRow;
}

export interface Credentials {
  email: string;
  password: string;
}

export type Accounts = ReturnType<typeof createAccounts>;

const MAX_NAME_LENGTH = 100;
const wrongCredentials = () => unauthenticated("Invalid email or password");

// Bidirectional embeddings, overrides and isolates reorder what an admin view shows ("\u202Eevil");
// zero-width spaces and the BOM show nothing. Joiners stay: Persian and Indic names need them.
const HIDDEN = /[\u202A-\u202E\u2066-\u2069\u200B\uFEFF]/u;
const VISIBLE = /[^\p{White_Space}\p{Cf}]/u;

function checkName(name: string | null | undefined): string | null {
  const trimmed = name?.trim();
  if (!trimmed) return null;
  if (characterCount(trimmed) > MAX_NAME_LENGTH) throw badInput("name", `Name must be at most ${MAX_NAME_LENGTH} characters`);
  if (CONTROL_CHARACTER.test(trimmed)) throw badInput("name", "Name must not contain control characters");
  if (UNPAIRED_SURROGATE.test(trimmed)) throw badInput("name", "Name must be valid Unicode text");
  if (HIDDEN.test(trimmed) || !VISIBLE.test(trimmed)) throw badInput("name", "Name must not contain invisible or text-direction characters");
  return trimmed;
}

/** Registration, sign-in, refresh and password changes: the rules, over users, sessions and tokens. */
export function createAccounts(deps: {
  users: Users;
  sessions: Sessions;
  passwords: PasswordHasher;
  accessTokens: AccessTokens;
  emailVerification: EmailVerification;
  events: SecurityEvents;
  notices: AccountNotices;
  config: Config["passwords"];
}) {
  const { users, sessions, passwords, accessTokens, emailVerification, events, notices, config } = deps;

  function issue(user: UserRow, issued: IssuedRefreshToken): AuthResult {
    const accessToken = accessTokens.sign({
      userId: user.id,
      sessionId: issued.sessionId,
      role: user.role,
      emailVerified: user.emailVerified,
      tokenVersion: user.tokenVersion,
    });
    return { accessToken, refreshToken: issued.refreshToken, tokenType: "Bearer", expiresIn: accessTokens.ttl, user };
  }

  /** A new session for the account as read; null when it changed meanwhile (see Sessions.start). */
  async function signIn(user: UserRow, client: ClientInfo): Promise<{ result: AuthResult; newDevice: boolean } | null> {
    const started = await sessions.start(user, client);
    return started && { result: issue(user, started), newDevice: started.newDevice };
  }

  return {
    async register(input: Credentials & { name?: string | null }, client: ClientInfo): Promise<AuthResult> {
      const email = checkEmail(input.email);
      const name = checkName(input.name);
      const password = checkPassword(config, input.password, "password", email, name);
      const user = await users.create({ email, name, passwordHash: await passwords.hash(password) });
      // A reserved address reads as taken: it was an account's a moment ago, and may be again.
      if (typeof user === "string") throw emailTaken();
      await emailVerification.sendAfterRegistration(user, client);
      // Null only if an admin deactivated the account in the instant since it was made.
      const signedIn = await signIn(user, client);
      if (!signedIn) throw wrongCredentials();
      return signedIn.result;
    },

    async login(input: Credentials, client: ClientInfo): Promise<AuthResult> {
      const email = checkEmail(input.email);
      const user = await users.findByEmail(email);
      // An unknown address still costs one argon2 verification, so timing does not tell them apart.
      const check = await passwords.verify(user?.passwordHash, input.password);
      if (!user || !check.ok || !user.active) {
        // The reason is for the log only: the client gets one answer for all three.
        events.loginFailed(user?.id ?? null, !user ? "unknown_email" : !check.ok ? "wrong_password" : "inactive", client);
        throw wrongCredentials();
      }
      if (check.needsRehash) {
        // A busy hasher leaves the upgrade to a later login; this one is already proven.
        const upgraded = await passwords.hash(normalizePassword(input.password)).catch((error: unknown) => {
          if (isBusy(error)) return null;
          throw error;
        });
        if (upgraded) await users.upgradePasswordHash(user.id, user.passwordHash, upgraded);
      }
      const signedIn = await signIn(user, client);
      if (!signedIn) {
        events.loginFailed(user.id, "account_changed", client);
        throw wrongCredentials();
      }
      events.loginSucceeded(user.id, signedIn.newDevice, client);
      if (signedIn.newDevice) notices.newSignIn(user, client);
      return signedIn.result;
    },

    async refresh(refreshToken: string, client: ClientInfo): Promise<AuthResult> {
      const issued = await sessions.rotate(refreshToken, client);
      if (!issued.user.active) throw invalidRefreshToken();
      return issue(issued.user, issued);
    },

    logout(refreshToken: string, client: ClientInfo): Promise<boolean> {
      return sessions.endByToken(refreshToken, client);
    },

    async logoutAll(viewer: Viewer): Promise<boolean> {
      await sessions.endAll(viewer.user.id, "logout_all");
      return true;
    },

    /** Keeps the caller's session; ends the others and retires every access token issued so far. */
    async changePassword(viewer: Viewer, currentPassword: string, newPassword: string, client: ClientInfo): Promise<boolean> {
      const check = await passwords.verify(viewer.user.passwordHash, currentPassword);
      if (!check.ok) throw badInput("currentPassword", "Current password is incorrect");
      const password = checkPassword(config, newPassword, "newPassword", viewer.user.email, viewer.user.name);
      const passwordHash = await passwords.hash(password);
      const { tokenVersion } = viewer.user;
      // A reset, another change or the end of this session landed while the hashes ran: that one stands.
      if (!(await users.setPassword(viewer.user.id, passwordHash, { tokenVersion, sessionId: viewer.sessionId, reason: "password_changed" }))) throw invalidAccessToken();
      events.passwordChanged(viewer.user.id, client);
      notices.passwordChanged(viewer.user, "changed", client);
      return true;
    },

    /**
     * Emails a link to `newEmail` that makes it the caller's address (EmailVerification.verify),
     * once the caller's password is confirmed: a stolen session alone cannot move the account,
     * and with it the password resets, to an address of the thief's. Only the newest link
     * works, so one sent to a mistyped address dies when the right one is asked for.
     */
    async requestEmailChange(viewer: Viewer, newEmail: string, password: string, client: ClientInfo): Promise<boolean> {
      const email = checkEmail(newEmail, "newEmail");
      if (email === viewer.user.email) throw badInput("newEmail", "This is already your email address");
      const check = await passwords.verify(viewer.user.passwordHash, password);
      if (!check.ok) throw badInput("password", "Password is incorrect");
      // Told now rather than once the link is opened; register tells as much to anyone. An address
      // another account left and can still take back is refused when opened too (Users.changeEmail).
      if ((await users.findByEmail(email)) || (await users.isAddressReserved(email, viewer.user.id))) throw emailTaken("newEmail");
      await emailVerification.sendChange(viewer.user, email, client);
      return true;
    },

    /**
     * Sets the caller's name under register's rules; null or a blank one clears it, and an
     * omitted one (undefined) leaves it as it is.
     */
    async updateProfile(viewer: Viewer, changes: { name?: string | null }): Promise<UserRow> {
      if (changes.name === undefined) return viewer.user;
      const user = await users.setName(viewer.user.id, checkName(changes.name), { sessionId: viewer.sessionId });
      if (!user) throw invalidAccessToken();
      return user;
    },

    /**
     * Deletes the caller's account once its password is confirmed, with every session and
     * refresh token of it: its access tokens stop working at once, and the address may register
     * again. An ADMIN is refused, as deactivating oneself is: another admin makes it a USER first,
     * so an admin always remains.
     */
    async deleteAccount(viewer: Viewer, password: string, client: ClientInfo): Promise<boolean> {
      if (viewer.user.role !== "USER") throw forbidden("An admin account cannot be deleted; another admin can make it a USER first");
      // Whoever moved the account to their address knows the password: deleting it would take the
      // owner's way back (revertEmailChange) with it. A change since the check takes a new token version.
      const revertable = await users.emailChangeRevertableUntil(viewer.user.id);
      if (revertable) {
        throw forbidden(
          `The account's email address was changed recently, and the link sent to the address it had can undo that until ${describeMoment(revertable)}. The account can be deleted after that.`,
        );
      }
      const check = await passwords.verify(viewer.user.passwordHash, password);
      if (!check.ok) throw badInput("password", "Password is incorrect");
      // A new password, a deactivation, a promotion or the end of this session landed while the hash ran: that one stands.
      if (!(await users.delete(viewer.user.id, { tokenVersion: viewer.user.tokenVersion, sessionId: viewer.sessionId }))) throw invalidAccessToken();
      events.accountDeleted(viewer.user.id, client);
      notices.accountDeleted(viewer.user, "owner", client);
      return true;
    },

    /**
     * Turns a bearer token into the caller, refusing it at once when its session has ended,
     * the account is inactive, or the password changed after it was issued.
     */
    async authenticate(bearer: string): Promise<Viewer> {
      const claims = accessTokens.verify(bearer);
      const user = await sessions.findLiveSessionUser(claims.sid, claims.sub);
      if (!user?.active || user.tokenVersion !== claims.ver) {
        throw invalidAccessToken();
      }
      return { user, sessionId: claims.sid };
    },
  };
}

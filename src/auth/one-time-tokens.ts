import type { Config } from "../config";
import { badInput, forbidden, invalidToken } from "../errors";
import type { TokenStore } from "../store/token-store";
import type { Viewer } from "./accounts";
import type { Sessions } from "./sessions";
import { generateToken, hashToken } from "./opaque-tokens";
import { characterCount, CONTROL_CHARACTER, UNPAIRED_SURROGATE } from "./text";

export interface IssuedOneTimeToken {
  token: string;
  purpose: string;
  expiresAt: Date;
}

export interface OneTimeTokenConsumption {
  purpose: string;
  userId: string;
  issuedAt: Date;
}

interface StoredToken {
  userId: string;
  purpose: string;
  issuedAt: string;
  /** The session that issued it and the account's token version then: the token lives no longer than they do. */
  sessionId: string;
  tokenVersion: number;
}

export type OneTimeTokens = ReturnType<typeof createOneTimeTokens>;

// Any text a client names its purpose with ("orders/confirm", "delete account"): it is stored
// in the token's record, never in a key. Not control characters or half a surrogate pair, which
// no client means and a log line would carry.
const MAX_PURPOSE = 128;
const tokenKey = (hash: string) => `ott:${hash}`;

/** The same rule for issuing and consuming: a purpose no token can have is the caller's mistake, not a spent token. */
function checkPurpose(purpose: string): void {
  if (purpose.length < 1 || characterCount(purpose) > MAX_PURPOSE || CONTROL_CHARACTER.test(purpose) || UNPAIRED_SURROGATE.test(purpose)) {
    throw badInput("purpose", `purpose must be 1 to ${MAX_PURPOSE} characters of text`);
  }
}

/**
 * Single-use tokens an account issues for its own purposes (a confirmation step, a hand-off
 * between apps). A token is worth no more than the access token that issued it: once that
 * session ends (logout, logoutAll, revocation, reuse), the password changes or is reset, or
 * the account is deactivated, its tokens are refused too.
 */
export function createOneTimeTokens(deps: { store: TokenStore; sessions: Pick<Sessions, "findLiveSessionUser">; config: Config["tokens"]; now?: () => Date }) {
  const { store, sessions, config } = deps;
  const now = deps.now ?? (() => new Date());

  /** Whether the session that issued the token, and its account as it was then, still stand. */
  async function issuerStands(stored: StoredToken, viewer: Viewer): Promise<boolean> {
    // The caller's own session was checked when its request came in.
    const issuer = stored.sessionId === viewer.sessionId ? viewer.user : await sessions.findLiveSessionUser(stored.sessionId, stored.userId);
    return Boolean(issuer?.active) && issuer?.tokenVersion === stored.tokenVersion;
  }

  return {
    async issue(viewer: Viewer, purpose: string, ttlSeconds?: number | null): Promise<IssuedOneTimeToken> {
      checkPurpose(purpose);
      const ttl = ttlSeconds ?? config.oneTimeTokenTtl;
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > config.oneTimeTokenMaxTtl) {
        throw badInput("ttlSeconds", `ttlSeconds must be between 1 and ${config.oneTimeTokenMaxTtl}`);
      }
      const token = generateToken();
      const issuedAt = now();
      const stored: StoredToken = {
        userId: viewer.user.id,
        purpose,
        issuedAt: issuedAt.toISOString(),
        sessionId: viewer.sessionId,
        tokenVersion: viewer.user.tokenVersion,
      };
      await store.set(tokenKey(hashToken(token)), JSON.stringify(stored), ttl);
      return { token, purpose, expiresAt: new Date(issuedAt.getTime() + ttl * 1000) };
    },

    /**
     * Spent in one atomic step, and only when the purpose matches and the caller is its owner
     * (or an admin): a stranger or a wrong purpose leaves it usable by its owner, and of
     * callers racing for it exactly one wins. The winner gets it only while its issuer stands.
     */
    async consume(viewer: Viewer, token: string, purpose: string): Promise<OneTimeTokenConsumption> {
      checkPurpose(purpose);
      const isAdmin = viewer.user.role === "ADMIN";
      const found = await store.consumeWhere(tokenKey(hashToken(token)), isAdmin ? { purpose } : { purpose, userId: viewer.user.id });
      if (!found) throw invalidToken("This token is invalid, used or expired");
      const stored = JSON.parse(found.value) as StoredToken;
      if (!found.consumed) {
        if (stored.userId !== viewer.user.id && !isAdmin) throw forbidden("This token was issued to another account");
        throw invalidToken("This token was issued for another purpose");
      }
      // Spent either way: a token whose issuer no longer stands is no good to anyone.
      if (!(await issuerStands(stored, viewer))) throw invalidToken("This token is invalid, used or expired");
      return { purpose: stored.purpose, userId: stored.userId, issuedAt: new Date(stored.issuedAt) };
    },
  };
}

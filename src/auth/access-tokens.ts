import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { Config } from "../config";
import type { Role } from "../db/schema";
import { invalidAccessToken } from "../errors";
import type { SigningKey, VerificationKey } from "./signing-key";

/** The claims this service puts in (and requires of) an access token. */
export interface AccessClaims {
  sub: string;
  sid: string;
  role: Role;
  email_verified: boolean;
  /** The account's token version: bumped on a password change or reset, a deactivation and a role change. */
  ver: number;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  jti: string;
}

export interface TokenSubject {
  userId: string;
  sessionId: string;
  role: Role;
  emailVerified: boolean;
  tokenVersion: number;
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;

const TOKEN_TYPE = "at+jwt";

/** Tokens the cache of verified tokens holds at most; a full cache drops its oldest entry. */
const MAX_VERIFIED = 10_000;

export function createAccessTokens(deps: { key: SigningKey; config: Config["jwt"]; now?: () => Date }) {
  const { key, config } = deps;
  const now = deps.now ?? (() => new Date());
  const header = { alg: key.algorithm, typ: TOKEN_TYPE, ...(key.kid ? { kid: key.kid } : {}) };
  /**
   * Tokens already verified, with their claims: a client presents the same token on every
   * request until it expires, and checking its signature again would find the same answer.
   * Only what passed verify() goes in, and an entry is used only until its token's exp, so
   * the cache never accepts a token that verify() would refuse. Revocation is not decided
   * here: every request still checks the session (Accounts.authenticate).
   */
  const verified = new Map<string, AccessClaims>();
  const checksFor = (verification: VerificationKey) => ({
    key: verification.key,
    options: {
      // Pinning each key's algorithm is what stops "alg: none" and HS256-signed-with-the-public-key forgeries.
      algorithms: [verification.algorithm as jwt.Algorithm],
      issuer: config.issuer,
      audience: config.audience,
      complete: true as const,
    },
  });
  const current = checksFor({ algorithm: key.algorithm, key: key.verifyKey });
  const byKid = new Map([...key.verificationKeys].map(([kid, verification]) => [kid, checksFor(verification)]));
  // With one key there is nothing to choose: a token signed by any other fails its signature.
  const checksOf = (token: string) => (byKid.size > 1 ? byKid.get(kidOf(token) ?? "") : current);

  return {
    ttl: config.accessTokenTtl,

    sign(subject: TokenSubject): string {
      const iat = Math.floor(now().getTime() / 1000);
      const claims: AccessClaims = {
        sub: subject.userId,
        sid: subject.sessionId,
        role: subject.role,
        email_verified: subject.emailVerified,
        ver: subject.tokenVersion,
        iat,
        exp: iat + config.accessTokenTtl,
        iss: config.issuer,
        aud: config.audience,
        jti: randomUUID(),
      };
      return jwt.sign(claims, key.signKey, { algorithm: key.algorithm, header });
    },

    /** Checks signature, algorithm, iss, aud, exp and shape; any failure is UNAUTHENTICATED. */
    verify(token: string): AccessClaims {
      const clockTimestamp = Math.floor(now().getTime() / 1000);
      const known = verified.get(token);
      // jsonwebtoken refuses a token once clockTimestamp >= exp: so does the cache.
      if (known && clockTimestamp < known.exp) return known;
      if (known) verified.delete(token);
      const checks = checksOf(token);
      if (!checks || !hasCanonicalSignature(token)) throw invalidAccessToken();
      let decoded: jwt.Jwt;
      try {
        decoded = jwt.verify(token, checks.key, { ...checks.options, clockTimestamp });
      } catch {
        throw invalidAccessToken();
      }
      // RFC 7515 §4.1.11: a header naming critical extensions must be refused by a verifier
      // that understands none of them, as this one (and the tokens it signs carry none).
      if (decoded.header.typ !== TOKEN_TYPE || "crit" in decoded.header || !isAccessClaims(decoded.payload)) {
        throw invalidAccessToken();
      }
      // A full cache drops its oldest entry (Maps iterate in insertion order).
      if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
      const claims = Object.freeze(decoded.payload);
      verified.set(token, claims);
      return claims;
    },
  };
}

/**
 * Whether the signature is spelled as base64url spells its bytes. The last character of a
 * signature carries a few unused bits, and jsonwebtoken's RS256 and ES256 checks decode
 * whatever they hold: a token with them set would verify as another string, a second key
 * for the cache above and for anything a caller keys on the token (16 spellings of an
 * RS256 or ES256 token).
 */
function hasCanonicalSignature(token: string): boolean {
  const signature = token.slice(token.lastIndexOf(".") + 1);
  return Buffer.from(signature, "base64url").toString("base64url") === signature;
}

/** The kid of a token's header, read before any check: it only chooses which key checks the signature. */
function kidOf(token: string): string | undefined {
  const dot = token.indexOf(".");
  if (dot < 1) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), "base64url").toString("utf8"));
    const kid = (header as { kid?: unknown } | null)?.kid;
    return typeof kid === "string" ? kid : undefined;
  } catch {
    return undefined;
  }
}

function isAccessClaims(payload: unknown): payload is AccessClaims {
  const p = payload as Partial<AccessClaims> | null;
  return (
    typeof p === "object" &&
    p !== null &&
    typeof p.sub === "string" &&
    typeof p.sid === "string" &&
    typeof p.ver === "number" &&
    typeof p.exp === "number" &&
    (p.role === "USER" || p.role === "ADMIN")
  );
}

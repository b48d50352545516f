import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import jwt from "jsonwebtoken";
import { createAccessTokens } from "../../src/auth/access-tokens";
import { loadSigningKey } from "../../src/auth/signing-key";
import { loadConfig } from "../../src/config";

const SECRET = "k3Jf9-q2Lw8xZp0aVb7nR4tY6uE1iO5sD";
const subject = { userId: "7c9e6679-7425-40de-944b-e07fc1f90ae7", sessionId: "0e4c2a1f-1b5c-4d43-9d9c-2f3b6a0e8f11", role: "USER" as const, emailVerified: false, tokenVersion: 3 };

function setup(env: Record<string, string> = {}, clock = { now: Date.now() }) {
  const config = loadConfig({ JWT_SECRET: SECRET, ...env });
  const key = loadSigningKey(config.jwt, "memory://");
  return { key, tokens: createAccessTokens({ key, config: config.jwt, now: () => new Date(clock.now) }), clock };
}

const rsaPem = () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const ecPem = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

describe("access tokens", () => {
  test("carry the contract's header and claims", () => {
    const { tokens } = setup();
    const decoded = jwt.decode(tokens.sign(subject), { complete: true })!;
    expect(decoded.header).toMatchObject({ alg: "HS256", typ: "at+jwt" });
    const claims = decoded.payload as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: subject.userId, sid: subject.sessionId, role: "USER", email_verified: false, iss: "auth-service", aud: "api" });
    expect(claims.exp).toBe((claims.iat as number) + 900);
    expect(claims.jti).toEqual(expect.any(String));
    expect(tokens.verify(tokens.sign(subject)).sub).toBe(subject.userId);
  });

  test("expire after ACCESS_TOKEN_TTL", () => {
    const { tokens, clock } = setup({ ACCESS_TOKEN_TTL: "60" });
    const token = tokens.sign(subject);
    clock.now += 59_000;
    expect(() => tokens.verify(token)).not.toThrow();
    clock.now += 2_000;
    expect(() => tokens.verify(token)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("a token signed without exp is refused: it would never expire", () => {
    const { tokens } = setup();
    const claims = { sub: subject.userId, sid: subject.sessionId, role: "USER", ver: 3, iss: "auth-service", aud: "api" };
    const endless = jwt.sign(claims, SECRET, { header: { alg: "HS256", typ: "at+jwt" }, noTimestamp: true });
    expect(() => tokens.verify(endless)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("another issuer or audience is refused", () => {
    const { tokens } = setup();
    const foreign = setup({ JWT_ISSUER: "someone-else" }).tokens.sign(subject);
    expect(() => tokens.verify(foreign)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
    const otherAudience = setup({ JWT_AUDIENCE: "billing" }).tokens.sign(subject);
    expect(() => tokens.verify(otherAudience)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("a token without the at+jwt type is refused even when correctly signed", () => {
    const { tokens } = setup();
    const claims = { sub: subject.userId, sid: subject.sessionId, ver: 3, role: "USER" };
    const options = { issuer: "auth-service", audience: "api", expiresIn: 60 };
    const idToken = jwt.sign(claims, SECRET, options);
    expect(() => tokens.verify(idToken)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
    // The same claims under the access-token type pass: the type alone made the difference.
    const accessToken = jwt.sign(claims, SECRET, { ...options, header: { alg: "HS256", typ: "at+jwt" } });
    expect(tokens.verify(accessToken).sid).toBe(subject.sessionId);
  });

  test("RS256 and ES256 follow the key type, with a kid in header and JWKS", () => {
    for (const [pem, alg] of [[rsaPem(), "RS256"], [ecPem(), "ES256"]] as const) {
      const { tokens, key } = setup({ JWT_PRIVATE_KEY: pem });
      const token = tokens.sign(subject);
      const header = jwt.decode(token, { complete: true })!.header;
      expect(header).toMatchObject({ alg, typ: "at+jwt", kid: key.kid });
      expect(key.jwks.keys).toEqual([expect.objectContaining({ kid: key.kid, alg, use: "sig" })]);
      expect(JSON.stringify(key.jwks)).not.toMatch(/"d":/);
      expect(tokens.verify(token).sid).toBe(subject.sessionId);
    }
  });

  test("an HS256 token signed with the public key is refused when the key is asymmetric", () => {
    const { tokens, key } = setup({ JWT_PRIVATE_KEY: rsaPem() });
    const publicPem = key.verifyKey.export({ type: "spki", format: "pem" }).toString();
    const claims = { sub: subject.userId, sid: subject.sessionId, role: "USER", ver: 3, iss: "auth-service", aud: "api" };
    const forged = jwt.sign(claims, Buffer.from(publicPem), { algorithm: "HS256", header: { alg: "HS256", typ: "at+jwt" } });
    expect(() => tokens.verify(forged)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("alg none and garbage are refused", () => {
    const { tokens } = setup();
    const body = Buffer.from(JSON.stringify({ sub: subject.userId, sid: subject.sessionId, role: "ADMIN", ver: 3, iss: "auth-service", aud: "api", exp: 9e9 })).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url")}.${body}.`;
    expect(() => tokens.verify(none)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
    expect(() => tokens.verify("not-a-jwt")).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test.each([
    // HS256 needs no check of its own: jsonwebtoken compares its signatures as text.
    ["RS256", { JWT_PRIVATE_KEY: rsaPem() }],
    ["ES256", { JWT_PRIVATE_KEY: ecPem() }],
  ])("an %s token whose signature's unused bits are set is refused: one token has one spelling", (_alg, env) => {
    const { tokens } = setup(env);
    const token = tokens.sign(subject);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1)!);
    // The same signature bytes: only the 4 bits past the last byte differ.
    const respelled = `${token.slice(0, -1)}${alphabet[last | 1]}`;
    expect(respelled).not.toBe(token);
    expect(Buffer.from(respelled.split(".")[2]!, "base64url")).toEqual(Buffer.from(token.split(".")[2]!, "base64url"));
    expect(() => tokens.verify(respelled)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
    expect(tokens.verify(token).sub).toBe(subject.userId);
  });

  test("a weak RSA key is refused at start", () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => setup({ JWT_PRIVATE_KEY: weak })).toThrow(/at least 2048 bits/);
  });

  test("an RSA-PSS or DSA key is refused at start with the configuration's message, not a crypto error", () => {
    const pss = generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const dsa = generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    for (const pem of [pss, dsa]) {
      expect(() => setup({ JWT_PRIVATE_KEY: pem })).toThrow(/^Invalid configuration: JWT_PRIVATE_KEY must be an RSA or P-256 EC key$/);
      expect(() => setup({ JWT_PRIVATE_KEY: rsaPem(), JWT_VERIFICATION_KEYS: pem })).toThrow(/^Invalid configuration: each key of JWT_VERIFICATION_KEYS must be an RSA or P-256 EC key$/);
    }
  });
});

describe("the development secret kept under DATA_DIR", () => {
  const development = loadConfig({}).jwt;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "jwt-secret-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("is made once, readable by its owner only, and used again at the next start", () => {
    const first = loadSigningKey(development, dir);
    const file = path.join(dir, "jwt-secret");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toHaveLength(64);
    expect(readdirSync(dir)).toEqual(["jwt-secret"]);
    const second = loadSigningKey(development, dir);
    expect(second.signKey.export().equals(first.signKey.export())).toBe(true);
  });

  test("an empty or cut file is refused rather than signing with a key anyone can guess", () => {
    for (const content of ["", "a", "x".repeat(31)]) {
      writeFileSync(path.join(dir, "jwt-secret"), content);
      expect(() => loadSigningKey(development, dir)).toThrow(/^Invalid configuration: .*jwt-secret holds less than 32 bytes; delete it/);
    }
  });
});

describe("signing key rotation (JWT_VERIFICATION_KEYS)", () => {
  const publicPem = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "pem" }).toString();
  const kidOf = (token: string) => jwt.decode(token, { complete: true })!.header.kid;
  const claims = { sub: subject.userId, sid: subject.sessionId, role: "USER", ver: 3, iss: "auth-service", aud: "api" };

  test("tokens of a previous key still verify and the JWKS serves both keys, while only the new key signs", () => {
    const oldPem = rsaPem();
    const before = setup({ JWT_PRIVATE_KEY: oldPem });
    const oldToken = before.tokens.sign(subject);
    // Rotating to a key of another type: each key keeps its own algorithm.
    const after = setup({ JWT_PRIVATE_KEY: ecPem(), JWT_VERIFICATION_KEYS: publicPem(oldPem) });
    expect(after.tokens.verify(oldToken).sid).toBe(subject.sessionId);
    const newToken = after.tokens.sign(subject);
    expect(kidOf(newToken)).toBe(after.key.kid);
    expect(jwt.decode(newToken, { complete: true })!.header.alg).toBe("ES256");
    expect(after.tokens.verify(newToken).sid).toBe(subject.sessionId);
    expect(after.key.jwks.keys.map((k) => [k.kid, k.alg])).toEqual([
      [after.key.kid, "ES256"],
      [before.key.kid, "RS256"],
    ]);
    // Without the previous key, the old token is refused: the setting is what keeps it valid.
    const withoutPrevious = setup({ JWT_PRIVATE_KEY: ecPem() });
    expect(() => withoutPrevious.tokens.verify(oldToken)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("a previous key given as a private key is served by its public half and never signs", () => {
    const oldPem = ecPem();
    const oldKid = setup({ JWT_PRIVATE_KEY: oldPem }).key.kid;
    const { key, tokens } = setup({ JWT_PRIVATE_KEY: rsaPem(), JWT_VERIFICATION_KEYS: oldPem.replace(/\n/g, "\\n") });
    expect(key.jwks.keys.map((k) => k.kid)).toEqual([key.kid, oldKid]);
    expect(JSON.stringify(key.jwks)).not.toMatch(/"d":/);
    expect(kidOf(tokens.sign(subject))).toBe(key.kid);
  });

  test("several verification keys, and the signing key listed among them, are each served once", () => {
    const [current, first, second] = [rsaPem(), ecPem(), rsaPem()];
    const { key } = setup({ JWT_PRIVATE_KEY: current, JWT_VERIFICATION_KEYS: [first, current, second, first].map(publicPem).join("\n") });
    expect(key.jwks.keys).toHaveLength(3);
    expect(new Set(key.jwks.keys.map((k) => k.kid)).size).toBe(3);
  });

  test("a token is checked by the key its kid names: another kid, or none, is refused", () => {
    const oldPem = rsaPem();
    const { key, tokens } = setup({ JWT_PRIVATE_KEY: rsaPem(), JWT_VERIFICATION_KEYS: publicPem(oldPem) });
    const previousKid = [...key.verificationKeys.keys()][1]!;
    const sign = (pem: string, kid?: string) =>
      jwt.sign(claims, pem, { algorithm: "RS256", expiresIn: 60, header: { alg: "RS256", typ: "at+jwt", ...(kid ? { kid } : {}) } });
    expect(tokens.verify(sign(oldPem, previousKid)).sub).toBe(subject.userId);
    // Signed by the previous key but naming the current one: the current key does not verify it.
    expect(() => tokens.verify(sign(oldPem, key.kid))).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
    expect(() => tokens.verify(sign(oldPem))).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
    expect(() => tokens.verify(sign(rsaPem(), "some-other-key"))).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("an HS256 token signed with a previous public key is refused: its algorithm stays pinned", () => {
    const oldPem = rsaPem();
    const { key, tokens } = setup({ JWT_PRIVATE_KEY: ecPem(), JWT_VERIFICATION_KEYS: publicPem(oldPem) });
    const previousKid = [...key.verificationKeys.keys()][1]!;
    const forged = jwt.sign(claims, Buffer.from(publicPem(oldPem)), { algorithm: "HS256", expiresIn: 60, header: { alg: "HS256", typ: "at+jwt", kid: previousKid } });
    expect(() => tokens.verify(forged)).toThrow(expect.objectContaining({ code: "UNAUTHENTICATED" }));
  });

  test("unusable verification keys are refused at start, naming the setting", () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(() => setup({ JWT_PRIVATE_KEY: rsaPem(), JWT_VERIFICATION_KEYS: weak })).toThrow(/JWT_VERIFICATION_KEYS must be an RSA key of at least 2048 bits/);
    expect(() => setup({ JWT_PRIVATE_KEY: rsaPem(), JWT_VERIFICATION_KEYS: "not a key" })).toThrow(/JWT_VERIFICATION_KEYS holds no PEM key/);
    const broken = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
    expect(() => setup({ JWT_PRIVATE_KEY: rsaPem(), JWT_VERIFICATION_KEYS: broken })).toThrow(/JWT_VERIFICATION_KEYS holds a PEM block that is not a readable key/);
    expect(() => setup({ JWT_VERIFICATION_KEYS: publicPem(rsaPem()) })).toThrow(/JWT_VERIFICATION_KEYS needs JWT_PRIVATE_KEY/);
  });
});


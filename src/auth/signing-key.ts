import { createHash, createPrivateKey, createPublicKey, createSecretKey, randomBytes, type JsonWebKey, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config";
import { ConfigError } from "../config";
import { ownDataDir } from "../data-dir";

export type SigningAlgorithm = "HS256" | "RS256" | "ES256";

/** A public key (or the HS256 secret) that verifies tokens, with the one algorithm it accepts. */
export interface VerificationKey {
  algorithm: SigningAlgorithm;
  key: KeyObject;
}

export interface SigningKey {
  algorithm: SigningAlgorithm;
  /** What tokens are signed with. */
  signKey: KeyObject;
  /** What tokens are verified with: the same secret, or the public half. */
  verifyKey: KeyObject;
  /** Present for asymmetric keys: the RFC 7638 thumbprint, carried in the token header. */
  kid?: string;
  /**
   * Asymmetric keys by kid: the signing key's public half, then JWT_VERIFICATION_KEYS (the
   * previous key after a rotation, the next one before it), which verify and never sign.
   * Empty for HS256.
   */
  verificationKeys: ReadonlyMap<string, VerificationKey>;
  /** The JWKS document served at /.well-known/jwks.json: every verification key. */
  jwks: { keys: JsonWebKey[] };
}

/**
 * Key objects are made once here: jsonwebtoken verifies far faster with a KeyObject
 * than with a string it has to parse on every call.
 */
export function loadSigningKey(jwt: Config["jwt"], dataDir: string): SigningKey {
  if (jwt.privateKey) return asymmetricKey(jwt.privateKey, jwt.verificationKeys);
  const secret = createSecretKey(Buffer.from(jwt.secret ?? developmentSecret(dataDir)));
  return { algorithm: "HS256", signKey: secret, verifyKey: secret, verificationKeys: new Map(), jwks: { keys: [] } };
}

interface PublishedKey extends VerificationKey {
  kid: string;
  jwk: JsonWebKey;
}

function asymmetricKey(pem: string, verificationPems: string | undefined): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError("Invalid configuration: JWT_PRIVATE_KEY is not a readable PEM private key");
  }
  const current = published(createPublicKey(privateKey), "JWT_PRIVATE_KEY");
  const others = pemBlocks(verificationPems ?? "").map((block) => published(verificationPublicKey(block), "each key of JWT_VERIFICATION_KEYS"));
  // A key listed twice, or the signing key listed again among the others, is served once.
  const keys = new Map<string, PublishedKey>();
  for (const key of [current, ...others]) if (!keys.has(key.kid)) keys.set(key.kid, key);
  return {
    algorithm: current.algorithm,
    signKey: privateKey,
    verifyKey: current.key,
    kid: current.kid,
    verificationKeys: new Map([...keys].map(([kid, { algorithm, key }]) => [kid, { algorithm, key }])),
    jwks: { keys: [...keys.values()].map(({ jwk, kid, algorithm }) => ({ ...jwk, kid, alg: algorithm, use: "sig" })) },
  };
}

/** `setting` names the key in a configuration error. */
function published(publicKey: KeyObject, setting: string): PublishedKey {
  // First: an RSA-PSS or DSA key has no JWK form, and exporting it would throw.
  const algorithm = algorithmFor(publicKey, setting);
  const jwk = publicKey.export({ format: "jwk" });
  return { algorithm, key: publicKey, kid: thumbprint(jwk), jwk };
}

/** The PEM blocks of JWT_VERIFICATION_KEYS: public keys, or private ones of which only the public half is kept. */
function pemBlocks(text: string): string[] {
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  if (!blocks.length && text.trim()) throw new ConfigError("Invalid configuration: JWT_VERIFICATION_KEYS holds no PEM key");
  return blocks;
}

function verificationPublicKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new ConfigError("Invalid configuration: JWT_VERIFICATION_KEYS holds a PEM block that is not a readable key");
  }
}

function algorithmFor(key: KeyObject, setting: string): SigningAlgorithm {
  if (key.asymmetricKeyType === "rsa") {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new ConfigError(`Invalid configuration: ${setting} must be an RSA key of at least 2048 bits`);
    }
    return "RS256";
  }
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new ConfigError(`Invalid configuration: ${setting} must be an RSA or P-256 EC key`);
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === "RSA" ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept under DATA_DIR,
 * so tokens survive restarts. An in-memory data directory gets a fresh one each start.
 */
function developmentSecret(dataDir: string): string {
  if (dataDir.startsWith("memory://")) return randomBytes(32).toString("base64url");
  const file = path.join(dataDir, "jwt-secret");
  if (existsSync(file)) {
    const stored = readFileSync(file, "utf8").trim();
    // An empty or cut file would sign with a key anyone can guess; the config would refuse it as JWT_SECRET.
    if (Buffer.byteLength(stored) < 32) throw new ConfigError(`Invalid configuration: ${file} holds less than 32 bytes; delete it to have a new secret generated`);
    return stored;
  }
  ownDataDir(dataDir);
  const secret = randomBytes(48).toString("base64url");
  // Written whole under another name, then renamed: a crash mid-write leaves no short file behind.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, secret, { mode: 0o600 });
  chmodSync(partial, 0o600);
  try {
    linkSync(partial, file);
  } catch (error) {
    // Another process sharing DATA_DIR made it first, whole: theirs stands.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return readFileSync(file, "utf8").trim();
  } finally {
    unlinkSync(partial);
  }
  return secret;
}

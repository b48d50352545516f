import { createHash, createPrivateKey, createPublicKey, createSecretKey, randomBytes, type JsonWebKey, type KeyObject } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config";
import { ConfigError } from "../config";

export type SigningAlgorithm = "HS256" | "RS256" | "ES256";

export interface SigningKey {
  algorithm: SigningAlgorithm;
  /** What tokens are signed with. */
  signKey: KeyObject;
  /** What tokens are verified with: the same secret, or the public half. */
  verifyKey: KeyObject;
  /** Present for asymmetric keys: the RFC 7638 thumbprint, carried in the token header. */
  kid?: string;
  /** The JWKS document served at /.well-known/jwks.json. */
  jwks: { keys: JsonWebKey[] };
}

/**
 * Key objects are made once here: jsonwebtoken verifies far faster with a KeyObject
 * than with a string it has to parse on every call.
 */
export function loadSigningKey(jwt: Config["jwt"], dataDir: string): SigningKey {
  if (jwt.privateKey) return asymmetricKey(jwt.privateKey);
  const secret = createSecretKey(Buffer.from(jwt.secret ?? developmentSecret(dataDir)));
  return { algorithm: "HS256", signKey: secret, verifyKey: secret, jwks: { keys: [] } };
}

function asymmetricKey(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError("Invalid configuration: JWT_PRIVATE_KEY is not a readable PEM private key");
  }
  const algorithm = algorithmFor(privateKey);
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: "jwk" });
  const kid = thumbprint(jwk);
  return {
    algorithm,
    signKey: privateKey,
    verifyKey: publicKey,
    kid,
    jwks: { keys: [{ ...jwk, kid, alg: algorithm, use: "sig" }] },
  };
}

function algorithmFor(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === "rsa") {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new ConfigError("Invalid configuration: JWT_PRIVATE_KEY must be an RSA key of at least 2048 bits");
    }
    return "RS256";
  }
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  throw new ConfigError("Invalid configuration: JWT_PRIVATE_KEY must be an RSA or P-256 EC key");
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
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return secret;
}

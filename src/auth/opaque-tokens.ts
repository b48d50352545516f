import { hash, randomBytes } from "node:crypto";

/** 256 random bits, URL-safe ([A-Za-z0-9_-]): refresh, reset, verification and one-time tokens. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Tokens are stored only as this hash, so a copy of the database or Redis cannot be replayed.
 * The one-shot `hash` (Node 20.12) costs a third of a `createHash` object per call.
 */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

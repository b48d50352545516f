import { createHash, randomBytes } from "node:crypto";

/** 256 random bits, URL-safe ([A-Za-z0-9_-]): refresh, reset, verification and one-time tokens. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Tokens are stored only as this hash, so a copy of the database or Redis cannot be replayed. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

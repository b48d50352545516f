import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

// The sealing key is derived from the token itself (and differs from its stored hash), so a
// copy of the database alone can never unseal a successor: only a holder of the token can.
function sealingKey(token: string): Buffer {
  return createHmac("sha256", token).update("refresh-token-successor").digest();
}

/** Encrypts `successor` (AES-256-GCM) so that only a holder of `token` can read it back. */
export function sealSuccessor(successor: string, token: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(token), iv);
  const sealed = Buffer.concat([cipher.update(successor, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url");
}

export function unsealSuccessor(sealed: string, token: string): string {
  const bytes = Buffer.from(sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", sealingKey(token), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
}

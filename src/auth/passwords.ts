import { randomBytes } from "node:crypto";
import argon2 from "argon2";
import type { Config } from "../config";
import { normalizePassword } from "./password-policy";

export interface PasswordCheck {
  ok: boolean;
  /** The hash was made with other parameters than the configured ones and should be replaced. */
  needsRehash: boolean;
}

export type PasswordHasher = Awaited<ReturnType<typeof createPasswordHasher>>;

/** argon2id with the configured cost. Expects passwords already normalised by the policy. */
export async function createPasswordHasher(config: Config["passwords"]["argon2"]) {
  const options = { type: argon2.argon2id, ...config } as const;
  // Verified against when an email has no account, so both paths spend the same argon2 work.
  const dummyHash = await argon2.hash(randomBytes(32).toString("base64url"), options);

  return {
    hash(password: string): Promise<string> {
      return argon2.hash(password, options);
    },

    async verify(hash: string | undefined, password: string): Promise<PasswordCheck> {
      const normalized = normalizePassword(password);
      if (hash === undefined) {
        await argon2.verify(dummyHash, normalized);
        return { ok: false, needsRehash: false };
      }
      const ok = await argon2.verify(hash, normalized);
      return { ok, needsRehash: ok && argon2.needsRehash(hash, options) };
    },
  };
}

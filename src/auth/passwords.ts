import { randomBytes } from "node:crypto";
import argon2 from "argon2";
import { Sema } from "async-sema";
import type { Config } from "../config";
import { AppError } from "../errors";
import { normalizePassword } from "./password-policy";

export interface PasswordCheck {
  ok: boolean;
  /** The hash was made with other parameters than the configured ones and should be replaced. */
  needsRehash: boolean;
}

export type PasswordHasher = Awaited<ReturnType<typeof createPasswordHasher>>;

/** A call the hasher refused because too many were waiting: it checked and hashed nothing. */
class HasherBusy extends AppError {
  constructor() {
    super("RATE_LIMITED", "The service is busy; try again in a moment", { retryAfter: 1 });
  }
}

export const isBusy = (error: unknown) => error instanceof HasherBusy;

/** 32 bytes, in the unpadded base64 of the encoded form. */
const HASH_CHARACTERS = 43;

/**
 * argon2id with argon2's own hash length, as this service writes them. argon2.needsRehash
 * compares the cost parameters only, so an imported argon2i or argon2d hash, or a shorter
 * one, would otherwise never be replaced.
 */
const isCurrentKind = (hash: string) => hash.startsWith("$argon2id$") && hash.length - hash.lastIndexOf("$") - 1 === HASH_CHARACTERS;

/**
 * argon2id with the configured cost. hash() expects a password already normalised by the
 * policy; verify() normalises the one it is given.
 *
 * At most `hashConcurrency` hashes run at once (one per core by default), the others wait
 * their turn here: more at once would only share the cores, each holding its memory
 * (ARGON2_MEMORY_KIB) the longer, and would take every thread of libuv's pool, which DNS
 * lookups and file reads need too (server.ts sizes the pool above this limit).
 *
 * At most `maxQueue` calls wait; the next one is refused at once (RATE_LIMITED), before any
 * hashing. A flood from many addresses, which per-address limits do not stop, would otherwise
 * queue without end: every sign-in waiting minutes behind it, and hashes still computed for
 * clients that gave up long ago.
 */
export async function createPasswordHasher(config: Pick<Config["passwords"], "argon2" | "hashConcurrency" | "maxQueue">) {
  const options = { type: argon2.argon2id, ...config.argon2 } as const;
  const slots = new Sema(config.hashConcurrency);
  async function limited<T>(work: () => Promise<T>): Promise<T> {
    // A free slot is taken at once; only a call that would have to wait can be refused.
    if (slots.tryAcquire() === undefined) {
      if (slots.nrWaiting() >= config.maxQueue) throw new HasherBusy();
      await slots.acquire();
    }
    try {
      return await work();
    } finally {
      slots.release();
    }
  }
  // Verified against when an email has no account, so both paths spend the same argon2 work.
  const dummyHash = await argon2.hash(randomBytes(32).toString("base64url"), options);

  return {
    hash(password: string): Promise<string> {
      return limited(() => argon2.hash(password, options));
    },

    async verify(hash: string | undefined, password: string): Promise<PasswordCheck> {
      const normalized = normalizePassword(password);
      if (hash === undefined) {
        await limited(() => argon2.verify(dummyHash, normalized));
        return { ok: false, needsRehash: false };
      }
      const ok = await limited(() => argon2.verify(hash, normalized));
      return { ok, needsRehash: ok && (!isCurrentKind(hash) || argon2.needsRehash(hash, options)) };
    },
  };
}

import { dictionary } from "@zxcvbn-ts/language-common";
import { badInput } from "../errors";

// ~49k passwords seen most often in breaches, as zxcvbn-ts maintains them (lower-case).
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary["passwords-common"] as string[]);

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

/** NIST SP 800-63B asks for Unicode normalisation before length checks and hashing. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/**
 * Applies NIST SP 800-63B: a length range counted in characters, no composition rules,
 * and a refusal of common passwords and of the account's own address.
 * Returns the normalised password that is to be hashed.
 */
export function checkPassword(policy: PasswordPolicy, password: string, field: string, email?: string): string {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < policy.minLength) {
    throw badInput(field, `Password must be at least ${policy.minLength} characters`);
  }
  if (length > policy.maxLength) {
    throw badInput(field, `Password must be at most ${policy.maxLength} characters`);
  }
  const lower = normalized.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) {
    throw badInput(field, "This password is too common; choose another");
  }
  if (email && (lower === email || lower === email.split("@")[0])) {
    throw badInput(field, "Password must not be your email address");
  }
  return normalized;
}

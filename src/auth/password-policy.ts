import { dictionary } from "@zxcvbn-ts/language-common";
import { badInput } from "../errors";

// ~49k passwords seen most often in breaches, as zxcvbn-ts maintains them (lower-case).
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary["passwords-common"] as string[]);

// Password spraying tries a common word dressed up for composition rules first ("Summer2024!",
// "P@ssw0rd1"), so a password is also refused when the word inside such dressing is common.
// Only the whole word inside counts: a passphrase ending in digits keeps its other words.
// Runs of up to six digits or symbols cover a year with "!!" or "123456"; a longer run is
// left alone, as it carries more strength than the word it surrounds.
const LEADING_NON_LETTERS = /^[^\p{L}\p{M}]{1,6}(?=[\p{L}\p{M}])/u;
const TRAILING_NON_LETTERS = /(?<=[\p{L}\p{M}])[^\p{L}\p{M}]{1,6}$/u;
// Symbols alone as well, so that a common password made of digits is found behind them ("12345678!").
const LEADING_SYMBOLS = /^[^\p{L}\p{M}\p{N}]{1,6}(?=[\p{L}\p{M}\p{N}])/u;
const TRAILING_SYMBOLS = /(?<=[\p{L}\p{M}\p{N}])[^\p{L}\p{M}\p{N}]{1,6}$/u;
// The list holds three-letter words ("dog", "sex"); one of those inside five or more digits and
// symbols is no longer what a sprayer tries first.
const MIN_COMMON_BASE_LENGTH = 4;

// Substitutions from the same habit, undone in a word once the digits and symbols around it are
// gone ("1" is read both ways: "P4ssw0rd", "A1ice").
const LOOKALIKES = /[0134@$57!]/g;
const AS_I: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "@": "a", $: "s", "5": "s", "7": "t", "!": "i" };
const AS_L: Record<string, string> = { ...AS_I, "1": "l" };

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

/** Half of a surrogate pair on its own: no character, and not what a keyboard types. */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** NIST SP 800-63B asks for Unicode normalisation before length checks and hashing. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/** The word a lower-cased password may be built on, with the digits and symbols around it taken off. */
function strippedWords(lower: string): string[] {
  const trailingStripped = lower.replace(TRAILING_NON_LETTERS, "");
  return [
    trailingStripped,
    trailingStripped.replace(LEADING_NON_LETTERS, ""),
    lower.replace(TRAILING_SYMBOLS, "").replace(LEADING_SYMBOLS, ""),
  ];
}

/** A handful of spellings to look up whatever the password's length: no combinations. */
function baseWords(lower: string): string[] {
  return strippedWords(lower).flatMap((word) => [
    word,
    word.replace(LOOKALIKES, (c) => AS_I[c] ?? c),
    word.replace(LOOKALIKES, (c) => AS_L[c] ?? c),
  ]);
}

/**
 * Applies NIST SP 800-63B: a length range counted in characters, no composition rules,
 * and a refusal of common passwords and of the account's own address, also behind
 * look-alike characters and a few digits or symbols on either side.
 * Returns the normalised password that is to be hashed.
 */
export function checkPassword(policy: PasswordPolicy, password: string, field: string, email?: string): string {
  // Half of a surrogate pair is no character: argon2 would get U+FFFD for it, so "\uD800" and
  // "\uDC00" would be one password, and the length below would count what is not there.
  if (UNPAIRED_SURROGATE.test(password)) throw badInput(field, "Password must be valid Unicode text");
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < policy.minLength) {
    throw badInput(field, `Password must be at least ${policy.minLength} characters`);
  }
  if (length > policy.maxLength) {
    throw badInput(field, `Password must be at most ${policy.maxLength} characters`);
  }
  const lower = normalized.toLowerCase();
  const bases = baseWords(lower);
  if (COMMON_PASSWORDS.has(lower) || bases.some((base) => base.length >= MIN_COMMON_BASE_LENGTH && COMMON_PASSWORDS.has(base))) {
    throw badInput(field, "This password is too common; choose another");
  }
  if (email) {
    // The address is what a targeted guess starts from, so a short local part counts too.
    const address = email.toLowerCase();
    const localPart = address.split("@")[0] ?? address;
    const own = new Set([address, localPart, ...strippedWords(localPart)]);
    if (own.has(lower) || bases.some((base) => own.has(base))) {
      throw badInput(field, "Password must not be your email address");
    }
  }
  return normalized;
}

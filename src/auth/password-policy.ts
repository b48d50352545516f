import { dictionary } from "@zxcvbn-ts/language-common";
import { badInput } from "../errors";
import { characterCount, UNPAIRED_SURROGATE } from "./text";

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

// NIST SP 800-63B also names repetitive and sequential characters ("aaaaaa", "1234abcd"), which
// the list above leaves out: zxcvbn scores those with matchers of its own, not used here.
const REPEATED_UNIT = /^(.{1,4})\1+$/u;
// Keyboard rows (QWERTY, QWERTZ, AZERTY, the digits and their shifted symbols) and a column walk,
// read in either direction.
const KEYBOARD_ROWS = ["qwertyuiopasdfghjklzxcvbnm", "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn", "1234567890", "!@#$%^&*()", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"];
const KEYBOARD_RUNS = [...KEYBOARD_ROWS, ...KEYBOARD_ROWS.map((row) => [...row].reverse().join(""))];
const MIN_SEQUENCE_RUN = 3;

/**
 * Whether a word is a repeat ("aaaaaaaa", "123123123"), a keyboard run ("qwertyuiopasdfg"), or
 * at most two runs of at least three characters that each repeat one character or step by one
 * code point ("abcdefgh", "87654321", "1234abcd", "aaaa1111").
 */
function isTrivialPattern(word: string): boolean {
  if (REPEATED_UNIT.test(word) || KEYBOARD_RUNS.some((row) => row.includes(word))) return true;
  const codes = Array.from(word, (char) => char.codePointAt(0)!);
  const runs: number[] = [];
  let length = 1;
  let step: number | undefined;
  for (let i = 1; i < codes.length; i++) {
    const difference = codes[i]! - codes[i - 1]!;
    if (step === undefined && Math.abs(difference) <= 1) step = difference;
    if (difference === step) {
      length++;
      continue;
    }
    runs.push(length);
    length = 1;
    step = undefined;
  }
  runs.push(length);
  return runs.length <= 2 && runs.every((run) => run >= MIN_SEQUENCE_RUN);
}

// A secret meant to be random (JWT_SECRET) is searched for parts a person would write: a part
// this long turns up by chance in under 1 in 10^5 secrets of 64 hex digits or 43 base64
// characters (shorter parts and two-run sequences would refuse real random ones).
const MIN_SECRET_PART = 8;
const MIN_SECRET_RUN = 10;

/** Whether `secret` holds a run of `MIN_SECRET_RUN` characters that each repeat or step by one code point. */
function hasLongRun(secret: string): boolean {
  const codes = Array.from(secret, (char) => char.codePointAt(0)!);
  for (let start = 0, i = 1; i <= codes.length; i++) {
    const step = codes[start + 1]! - codes[start]!;
    if (i < codes.length && Math.abs(step) <= 1 && codes[i]! - codes[i - 1]! === step) continue;
    if (i - start >= MIN_SECRET_RUN) return true;
    start = i - 1;
  }
  return false;
}

/**
 * For a secret that should be random bytes: whether it holds a common password, a keyboard run
 * or some part twice, of `MIN_SECRET_PART` characters or more, or a long repeat or sequence.
 */
export function containsGuessablePart(secret: string): boolean {
  const lower = secret.toLowerCase();
  if (hasLongRun(lower)) return true;
  for (let start = 0; start + MIN_SECRET_PART <= lower.length; start++) {
    const part = lower.slice(start, start + MIN_SECRET_PART);
    if (lower.indexOf(part, start + 1) !== -1 || KEYBOARD_RUNS.some((row) => row.includes(part))) return true;
    // Words: the list's numbers (dates, mostly) turn up in hex digits by chance.
    for (let end = start + MIN_SECRET_PART; end <= lower.length; end++) {
      const candidate = lower.slice(start, end);
      if (COMMON_PASSWORDS.has(candidate) && /\p{L}/u.test(candidate)) return true;
    }
  }
  return false;
}

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

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
 * and a refusal of common passwords, repeats and sequences, and of the account's own
 * address and name, also behind look-alike characters and a few digits or symbols on either side.
 * Returns the normalised password that is to be hashed.
 */
export function checkPassword(policy: PasswordPolicy, password: string, field: string, email?: string, name?: string | null): string {
  // Half of a surrogate pair is no character: argon2 would get U+FFFD for it, so "\uD800" and
  // "\uDC00" would be one password, and the length below would count what is not there.
  if (UNPAIRED_SURROGATE.test(password)) throw badInput(field, "Password must be valid Unicode text");
  const normalized = normalizePassword(password);
  // Characters as typed, or as normalised when that is fewer ("e" + U+0301 is one "é"): NFKC can
  // also make one typed character many (U+FDFA is 18), which must not fill the minimum.
  const length = Math.min(characterCount(password), characterCount(normalized));
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
  if (isTrivialPattern(lower) || bases.some((base) => base.length >= MIN_COMMON_BASE_LENGTH && isTrivialPattern(base))) {
    throw badInput(field, "This password is a repeat, a sequence or a keyboard run; choose another");
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
  if (name) {
    // The account's name is as easy a first guess, written with its spaces or without.
    const written = normalizePassword(name).toLowerCase().trim();
    const own = new Set([written, ...strippedWords(written)].flatMap((word) => [word, word.replace(/\s+/gu, "")]).filter((word) => word.length >= MIN_COMMON_BASE_LENGTH));
    if (own.has(lower) || own.has(lower.replace(/\s+/gu, "")) || bases.some((base) => own.has(base))) {
      throw badInput(field, "Password must not be your name");
    }
  }
  return normalized;
}

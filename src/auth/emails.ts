import { badInput } from "../errors";

// A plain addr-spec (RFC 5322 dot-atom @ domain), letters of any script allowed (RFC 6531, IDN).
// Nothing else: quotes, comments, angle brackets, commas, colons and semicolons make a mail
// library read one string as a list or a group, which delivered a look-alike account's mail to
// the address inside it ("a<victim@corp.example>"). Whitespace and control characters (a NUL,
// which PostgreSQL refuses) are out too. Deliverability is proven by the verification email.
const LETTER_OR_DIGIT = String.raw`\p{L}\p{M}\p{Nd}`;
const ATOM = `[${LETTER_OR_DIGIT}!#$%&'*+/=?^_\`{|}~-]+`;
const LABEL = `[${LETTER_OR_DIGIT}]+(?:-+[${LETTER_OR_DIGIT}]+)*`;
// The domain needs a dot, as before: a bare host name is no one's address on the internet.
const EMAIL_SHAPE = new RegExp(`^${ATOM}(?:\\.${ATOM})*@${LABEL}(?:\\.${LABEL})+$`, "u");
const MAX_EMAIL_LENGTH = 254;

/**
 * Addresses are compared case-insensitively and stored trimmed, lower-cased and in Unicode
 * NFC: "café" with a combining accent is the address with "é" (drizzle/0002 rewrote those
 * stored before).
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase().normalize("NFC");
}

/** Normalises an address and refuses one that is not a plain addr-spec. */
export function checkEmail(email: string, field = "email"): string {
  const normalized = normalizeEmail(email);
  // The length first: it bounds the pattern's work on a huge input.
  if (normalized.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(normalized)) {
    throw badInput(field, "Enter a valid email address");
  }
  return normalized;
}

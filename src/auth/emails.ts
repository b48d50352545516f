import { badInput } from "../errors";

// Deliberately loose: one "@", no spaces or control characters (PostgreSQL refuses a NUL), a dot
// in the domain. Deliverability is proven by the verification email, not by a regular expression.
const EMAIL_SHAPE = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@.\p{Cc}]+$/u;
const MAX_EMAIL_LENGTH = 254;

/** Addresses are compared case-insensitively and stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Normalises an address and refuses one that cannot be an email address. */
export function checkEmail(email: string, field = "email"): string {
  const normalized = normalizeEmail(email);
  if (normalized.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(normalized)) {
    throw badInput(field, "Enter a valid email address");
  }
  return normalized;
}

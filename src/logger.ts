import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

// Anything that could carry a credential is removed before a line is written.
const REDACT = [
  "password",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino({ level: options.level, redact: { paths: REDACT, censor: "[redacted]" } }, options.destination);
}

import { createTransport } from "nodemailer";
import type { Logger } from "../logger";

export interface MailMessage {
  from: string;
  /** One recipient's bare address, never a list. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Where emails go: an SMTP server, or the log when none is configured. */
export interface MailTransport {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

// nodemailer waits minutes by default; a stuck mail server should fail a send, not pile them up.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/**
 * Sends through the server of a nodemailer transport URL (smtp://user:pass@host:port,
 * smtps://…), over a pool of connections kept open between emails: a connection, TLS and
 * SMTP greeting per email cost a registration more of the service's CPU than its database work.
 */
function createSmtpTransport(smtpUrl: string): MailTransport {
  const transporter = createTransport({ url: smtpUrl, pool: true, ...SMTP_TIMEOUTS });
  return {
    async send(message) {
      // As an address object, not a string: nodemailer parses a string as an address list, so
      // "a<victim@corp.example>" or "victim@corp.example,x" would be mailed to victim@corp.example.
      await transporter.sendMail({ ...message, to: { name: "", address: message.to } });
    },
    close: () => transporter.close(),
  };
}

/**
 * Development without SMTP_URL: the whole message, link and token included, goes to the
 * log, which is how a developer follows a reset or verification link. config.ts refuses
 * to start in production without SMTP_URL, so tokens reach the log only outside it.
 */
function createLogTransport(logger: Logger): MailTransport {
  return {
    async send({ from, to, subject, text }) {
      logger.info({ mail: { from, to, subject, text } }, `email to ${to} logged, not sent (no SMTP_URL): ${subject}`);
    },
    close: () => {},
  };
}

export function createMailTransport(deps: { smtpUrl: string | undefined; logger: Logger }): MailTransport {
  return deps.smtpUrl ? createSmtpTransport(deps.smtpUrl) : createLogTransport(deps.logger);
}

import { createServer } from "node:net";
import { startSmtpReceiver, type SmtpReceiver } from "../../helpers/smtp-receiver";
import { startTestApp, type TestApp } from "../../helpers/test-app";

export interface Service {
  t: TestApp;
  smtp: SmtpReceiver;
  /** http://127.0.0.1:PORT/account */
  pages: string;
  /** The link of the newest email of that kind to that address, exactly as the email has it. */
  linkFromMail(to: string, kind: "verify-email" | "reset-password" | "revert-email", nth?: number): Promise<string>;
  close(): Promise<void>;
}

/** A port that was free a moment ago: the service must know its own port to put it in email links. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * The real service with the account pages on, FRONTEND_URL unset (so email links point at its own
 * /account pages) and mail going to a local SMTP receiver. PostgreSQL and Redis when
 * TEST_DATABASE_URL / TEST_REDIS_URL are set, else the embedded back ends.
 */
export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const smtp = await startSmtpReceiver();
  const port = await freePort();
  const t = await startTestApp({ PORT: String(port), SMTP_URL: smtp.url, ACCOUNT_UI: "true", FRONTEND_URL: undefined, ...env });
  return {
    t,
    smtp,
    pages: `${t.url}/account`,
    async linkFromMail(to, kind, nth = 0) {
      const pattern = new RegExp(`https?://\\S+/${kind}\\?token=[A-Za-z0-9_-]+`);
      const mail = await smtp.waitForMail(to, (m) => pattern.test(m.text) && smtp.mails.filter((x) => x.to.includes(to) && pattern.test(x.text)).indexOf(m) === nth);
      return pattern.exec(mail.text)![0];
    },
    async close() {
      await t.close();
      await smtp.close();
    },
  };
}

import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createLogger } from "../../src/logger";
import { createMailer } from "../../src/mail/mailer";
import { createMailTransport, type MailTransport } from "../../src/mail/transports";
import { startSmtpReceiver, type SmtpReceiver } from "../helpers/smtp-receiver";
import { uniqueEmail } from "../helpers/test-app";

const FROM = "Auth Service <no-reply@example.com>";
const FRONTEND = "https://app.example.com/account";
const newToken = () => randomBytes(32).toString("base64url");

/** A pino logger whose lines a test can read back, parsed. */
function capturedLogger() {
  const lines: Record<string, any>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

describe("mailer over SMTP", () => {
  let receiver: SmtpReceiver;
  const { logger } = capturedLogger();
  beforeAll(async () => {
    receiver = await startSmtpReceiver();
  });
  // The SMTP transport keeps a pool of connections open: each is closed before the receiver.
  const transports: MailTransport[] = [];
  const smtpTransport = () => {
    const transport = createMailTransport({ smtpUrl: receiver.url, logger });
    transports.push(transport);
    return transport;
  };
  afterAll(() => {
    for (const transport of transports) transport.close();
    return receiver.close();
  });

  const mailer = () => createMailer({ transport: smtpTransport(), from: FROM, frontendUrl: FRONTEND, logger });

  test("a password reset email carries the reset link in both parts and says how long it lasts", async () => {
    const [to, token] = [uniqueEmail("reset"), newToken()];
    await mailer().sendPasswordReset(to, token, 1800);

    const mail = await receiver.waitForMail(to);
    const link = `${FRONTEND}/reset-password?token=${token}`;
    expect(mail.subject).toBe("Reset your password");
    expect(mail.from).toBe("no-reply@example.com");
    expect(mail.text).toContain(link);
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.text).toContain("30 minutes");
  });

  test("a verification email carries the verify link in both parts and says how long it lasts", async () => {
    const [to, token] = [uniqueEmail("verify"), newToken()];
    await mailer().sendEmailVerification(to, token, 86_400);

    const mail = await receiver.waitForMail(to);
    const link = `${FRONTEND}/verify-email?token=${token}`;
    expect(mail.subject).toBe("Confirm your email address");
    expect(mail.text).toContain(link);
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html).toContain("24 hours");
  });

  test("a trailing slash on the frontend URL does not double the slash in links", async () => {
    const [to, token] = [uniqueEmail("slash"), newToken()];
    const transport = smtpTransport();
    await createMailer({ transport, from: FROM, frontendUrl: `${FRONTEND}/`, logger }).sendEmailVerification(to, token, 60);

    expect((await receiver.waitForMail(to)).text).toContain(`${FRONTEND}/verify-email?token=${token}`);
  });
});

test("without SMTP the whole email is written to the log", async () => {
  const { lines, logger } = capturedLogger();
  const [to, token] = [uniqueEmail("logged"), newToken()];
  const mailer = createMailer({ transport: createMailTransport({ smtpUrl: undefined, logger }), from: FROM, frontendUrl: FRONTEND, logger });
  await mailer.sendPasswordReset(to, token, 1800);

  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 30, mail: { from: FROM, to, subject: "Reset your password" } });
  expect(lines[0]!.mail.text).toContain(`${FRONTEND}/reset-password?token=${token}`);
});

test("a failed send is logged without the token or the address, and rejected to the caller", async () => {
  const { lines, logger } = capturedLogger();
  const [to, token] = [uniqueEmail("down"), newToken()];
  const transport = createMailTransport({ smtpUrl: "smtp://127.0.0.1:1", logger });
  const mailer = createMailer({ transport, from: FROM, frontendUrl: FRONTEND, logger });

  await expect(mailer.sendPasswordReset(to, token, 1800)).rejects.toThrow(/ECONNREFUSED/);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 50, kind: "password_reset", msg: "email could not be sent" });
  expect(JSON.stringify(lines)).not.toContain(token);
  expect(JSON.stringify(lines)).not.toContain(to);
  transport.close();
});

test("a recipient the mail server refuses is logged without the address it names", async () => {
  const smtp = await startSmtpReceiver({ refuseRecipients: true });
  const { lines, logger } = capturedLogger();
  const [to, token] = [uniqueEmail("refused"), newToken()];
  const transport = createMailTransport({ smtpUrl: smtp.url, logger });
  const mailer = createMailer({ transport, from: FROM, frontendUrl: FRONTEND, logger });
  try {
    await expect(mailer.sendPasswordReset(to, token, 1800)).rejects.toThrow(/Recipient address rejected/);
    expect(lines).toEqual([expect.objectContaining({ level: 50, kind: "password_reset", err: expect.objectContaining({ code: "EENVELOPE", responseCode: 550 }) })]);
    expect(lines[0]!.err.message).toContain("Recipient address rejected");
    expect(JSON.stringify(lines)).not.toContain(to);
    // An apostrophe is as good as any other letter of a local part (O'Brien).
    const apostrophe = `john.o'brien-${newToken().slice(0, 6)}@example.com`;
    await expect(mailer.sendPasswordReset(apostrophe, token, 1800)).rejects.toThrow(/Recipient address rejected/);
    expect(lines[1]!.err.message).toContain("[address]");
    expect(JSON.stringify(lines[1])).not.toContain("john.o");
  } finally {
    transport.close();
    await smtp.close();
  }
});

import { Writable } from "node:stream";
import { createLogger } from "../../src/logger";
import { hasRedisServer, startRedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { waitFor } from "../helpers/wait-for";
import { startSmtpReceiver, type SmtpReceiver } from "../helpers/smtp-receiver";
import { register, startTestApp, STRONG_PASSWORD, type TestApp } from "../helpers/test-app";

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

let smtp: SmtpReceiver;
let t: TestApp;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  // trace: the most a log can say, SQL statements included.
  t = await startTestApp({ SMTP_URL: smtp.url, LOG_LEVEL: "trace" }, { logger: createLogger({ level: "trace", destination: sink }) });
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});

test("passwords, tokens and Authorization headers never reach the log", async () => {
  const auth = await register(t, { password: STRONG_PASSWORD });
  const secrets = [STRONG_PASSWORD, auth.accessToken, auth.refreshToken];

  await t.gql(`mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }`, { e: auth.user.email, p: "a-wrong-password-guess" });
  await t.gql(`{ me { id } }`, {}, { token: auth.accessToken });
  const refreshed = await t.gql(`mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }`, { r: auth.refreshToken });
  secrets.push(refreshed.data?.refreshToken.accessToken, refreshed.data?.refreshToken.refreshToken, "a-wrong-password-guess");

  await t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: auth.user.email });
  const mail = await smtp.waitForMail(auth.user.email, (m) => m.text.includes("reset-password"));
  const resetToken = /token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
  await t.gql(`mutation($t: String!) { resetPassword(token: $t, newPassword: "brand-new-secret-phrase") }`, { t: resetToken });
  secrets.push(resetToken, "brand-new-secret-phrase");
  // An unexpected error is logged with its cause; the cause must not carry the request either.
  await t.gql(`{ me { id } }`, {}, { headers: { authorization: "Bearer not-even-a-jwt" } });
  secrets.push("not-even-a-jwt");

  const log = lines.join("");
  expect(lines.length).toBeGreaterThan(10);
  for (const secret of secrets) expect(log).not.toContain(secret);
  expect(log).not.toMatch(/authorization"?\s*:\s*"Bearer/i);
});

// A redis-server of the test's own, with a password (skipped without the binary).
(hasRedisServer ? test : test.skip)("a Redis that refuses the password: the log says so, and never shows the password sent", async () => {
  const port = await freePort();
  const redis = await startRedisServer(port, ["--requirepass", "the-right-one-4"]);
  const own: string[] = [];
  const logger = createLogger({
    level: "warn",
    destination: new Writable({
      write(chunk, _encoding, done) {
        own.push(String(chunk));
        done();
      },
    }),
  });
  const refused = await startTestApp({ REDIS_URL: `redis://:sent-but-wrong-7@127.0.0.1:${port}/0` }, { logger });
  try {
    await waitFor(async () => expect(own.join("")).toContain("WRONGPASS"), 10_000);
    const log = own.join("");
    expect(log).toContain('"command":{"name":"hello"}');
    expect(log).not.toContain("sent-but-wrong-7");
  } finally {
    await refused.close();
    await redis.kill();
  }
});

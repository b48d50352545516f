import { createLogger } from "../../src/logger";
import { createMailTransport, type MailTransport } from "../../src/mail/transports";
import { startSmtpReceiver, type SmtpReceiver } from "../helpers/smtp-receiver";
import { errorCode, register, startTestApp, STRONG_PASSWORD, type TestApp } from "../helpers/test-app";

const VICTIM = "victim@corp.example";
// Each reads, to a mail library, as a name, a list or a group around the victim's address.
const LOOK_ALIKES = [`a<${VICTIM}>`, `${VICTIM},x`, `grp:${VICTIM};`, `x@y.example, ${VICTIM}`];

let receiver: SmtpReceiver;
beforeAll(async () => {
  receiver = await startSmtpReceiver();
});
afterAll(() => receiver.close());

describe("an address that holds someone else's", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SMTP_URL: receiver.url, FRONTEND_URL: "https://app.example.com" });
  });
  afterAll(() => t.close());

  test.each(LOOK_ALIKES)("%s is no account, and no reset email is sent for it", async (email) => {
    const registered = await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
      input: { email, password: STRONG_PASSWORD },
    });
    expect(registered.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "email" });
    expect(errorCode(await t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: email }))).toBe("BAD_USER_INPUT");
  });

  test.each(LOOK_ALIKES)("%s cannot become an account's new address: it is refused before anything is sent", async (email) => {
    const auth = await register(t);
    const moved = await t.gql(`mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, password: $p) }`, { e: email, p: STRONG_PASSWORD }, { token: auth.accessToken });
    expect(moved.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "newEmail" });
  });

  test("an address in another script registers and gets its verification email", async () => {
    const email = `jörg.${Date.now()}@müller.example`;
    expect((await register(t, { email })).user.email).toBe(email);
    expect((await receiver.waitForMail(email)).subject).toBe("Confirm your email address");
  });
});

// checkEmail refuses these; should one get past it, the transport must still not read it as a list.
describe("the SMTP transport", () => {
  let transport: MailTransport;
  beforeAll(() => {
    transport = createMailTransport({ smtpUrl: receiver.url, logger: createLogger({ level: "silent" }) });
  });
  afterAll(() => transport.close());

  const content = { from: "Auth <auth@example.com>", subject: "Reset your password", text: "link", html: "<p>link</p>" };

  test.each(LOOK_ALIKES)("sends to %s as one address, never to the address inside it", async (to) => {
    const before = receiver.mails.length;
    // The receiving server may refuse the address as a whole (this one does); that is fine.
    await transport.send({ ...content, to }).catch(() => {});
    const sent = receiver.mails.slice(before);
    for (const mail of sent) expect(mail.to).toHaveLength(1);
    expect(sent.flatMap((mail) => mail.to)).not.toContain(VICTIM);
  });

  test("sends an ordinary address its email, named alone in To", async () => {
    const to = `someone.${Date.now()}@example.com`;
    await transport.send({ ...content, to });
    const mail = await receiver.waitForMail(to);
    expect(mail.to).toEqual([to]);
    expect(mail.raw.split(/\r?\n/)).toContain(`To: ${to}`);
  });
});

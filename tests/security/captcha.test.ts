import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { INTERNAL_MESSAGE } from "../../src/errors";
import { captureLogs } from "../helpers/log-capture";
import { errorCode, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from "../helpers/test-app";

const SECRET = "siteverify-secret";
const received: URLSearchParams[] = [];

// A stand-in for the provider's siteverify API: accepts the token "human" for our secret, unless
// it is told to be down (it then answers 500). Two tokens get answers that are no clear yes:
// "no-verdict" an answer without `success`, "error-page" a 503 whose body says success.
let siteverify: Server;
let verifyUrl: string;
let providerDown = false;
beforeAll(async () => {
  siteverify = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const form = new URLSearchParams(body);
      received.push(form);
      if (providerDown) return res.writeHead(500).end();
      res.setHeader("content-type", "application/json");
      if (form.get("response") === "no-verdict") return res.end(JSON.stringify({ "error-codes": [] }));
      if (form.get("response") === "error-page") return res.writeHead(503).end(JSON.stringify({ success: true }));
      res.end(JSON.stringify({ success: form.get("secret") === SECRET && form.get("response") === "human" }));
    });
  });
  await new Promise<void>((resolve) => siteverify.listen(0, "127.0.0.1", resolve));
  verifyUrl = `http://127.0.0.1:${(siteverify.address() as AddressInfo).port}/siteverify`;
});
afterAll(() => new Promise((resolve) => siteverify.close(resolve)));

/** The service with Turnstile configured against the stand-in above. */
const withTurnstile = (env: Record<string, string> = {}) =>
  startTestApp({ CAPTCHA_PROVIDER: "turnstile", CAPTCHA_SECRET: SECRET, CAPTCHA_SITE_KEY: "site-key", CAPTCHA_VERIFY_URL: verifyUrl, ...env });

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { user { id } } }`;
const RESET = `mutation($e: String!, $c: String) { requestPasswordReset(email: $e, captchaToken: $c) }`;

describe("with a captcha provider", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await withTurnstile();
  });
  afterAll(() => t.close());

  test("register, login and requestPasswordReset need an accepted captchaToken", async () => {
    const email = uniqueEmail();
    for (const captchaToken of [undefined, "robot"]) {
      const res = await t.gql(REGISTER, { input: { email, password: STRONG_PASSWORD, captchaToken } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "captchaToken" });
    }
    expect((await t.gql(REGISTER, { input: { email, password: STRONG_PASSWORD, captchaToken: "human" } })).data?.register.user.id).toBeDefined();

    expect(errorCode(await t.gql(LOGIN, { input: { email, password: STRONG_PASSWORD } }))).toBe("BAD_USER_INPUT");
    expect((await t.gql(LOGIN, { input: { email, password: STRONG_PASSWORD, captchaToken: "human" } })).data?.login.user.id).toBeDefined();

    expect(errorCode(await t.gql(RESET, { e: email, c: "robot" }))).toBe("BAD_USER_INPUT");
    expect((await t.gql(RESET, { e: email, c: "human" })).data).toEqual({ requestPasswordReset: true });
  });

  test("the provider gets the secret, the token and the client address", async () => {
    await t.gql(LOGIN, { input: { email: uniqueEmail(), password: "whatever-password", captchaToken: "human" } });
    expect(received.at(-1)?.get("secret")).toBe(SECRET);
    expect(received.at(-1)?.get("response")).toBe("human");
    expect(received.at(-1)?.get("remoteip")).toMatch(/127\.0\.0\.1/);
  });

  test("the captcha is checked before any password work", async () => {
    // A too-short password would be refused by the policy: the captcha answers first.
    const res = await t.gql(REGISTER, { input: { email: uniqueEmail(), password: "short" } });
    expect(res.errors?.[0]?.extensions.field).toBe("captchaToken");
  });
});

describe("calls stopped at their captcha cost the address they name nothing: no lockout, no spent reset emails", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await withTurnstile({ RATE_LIMIT_LOGIN_ACCOUNT: "3/15m", RATE_LIMIT_PASSWORD_RESET_EMAIL: "2/1h" });
  });
  afterAll(() => t.close());

  /** A victim's account, named by more failed sign-ins and reset requests than its limits allow. */
  async function victim(): Promise<string> {
    const email = uniqueEmail("victim");
    await t.gql(REGISTER, { input: { email, password: STRONG_PASSWORD, captchaToken: "human" } });
    return email;
  }

  /** Its owner, with a solved captcha, still signs in and still gets a reset email. */
  async function expectOwnerUnhindered(email: string) {
    expect((await t.gql(LOGIN, { input: { email, password: STRONG_PASSWORD, captchaToken: "human" } })).data?.login.user.id).toBeDefined();
    expect((await t.gql(RESET, { e: email, c: "human" })).data).toEqual({ requestPasswordReset: true });
  }

  test("a missing or refused captcha", async () => {
    const email = await victim();
    for (const captchaToken of [undefined, "robot", undefined, "robot", undefined]) {
      expect(errorCode(await t.gql(LOGIN, { input: { email, password: "guessed-wrong-again", captchaToken } }))).toBe("BAD_USER_INPUT");
      expect(errorCode(await t.gql(RESET, { e: email, c: captchaToken ?? null }))).toBe("BAD_USER_INPUT");
    }
    await expectOwnerUnhindered(email);

    // The limits themselves hold for calls that pass the captcha.
    for (let i = 0; i < 3; i++) await t.gql(LOGIN, { input: { email, password: "guessed-wrong-again", captchaToken: "human" } });
    expect(errorCode(await t.gql(LOGIN, { input: { email, password: STRONG_PASSWORD, captchaToken: "human" } }))).toBe("RATE_LIMITED");
    await t.gql(RESET, { e: email, c: "human" });
    expect(errorCode(await t.gql(RESET, { e: email, c: "human" }))).toBe("RATE_LIMITED");
  });

  test("only a 2xx answer saying success: true lets a call through", async () => {
    const email = await victim();
    expect(errorCode(await t.gql(LOGIN, { input: { email, password: STRONG_PASSWORD, captchaToken: "no-verdict" } }))).toBe("BAD_USER_INPUT");
    expect(errorCode(await t.gql(LOGIN, { input: { email, password: STRONG_PASSWORD, captchaToken: "error-page" } }))).toBe("INTERNAL_SERVER_ERROR");
  });

  test("a provider that is down", async () => {
    const email = await victim();
    providerDown = true;
    try {
      for (let i = 0; i < 4; i++) {
        expect(errorCode(await t.gql(LOGIN, { input: { email, password: "guessed-wrong-again", captchaToken: "anything" } }))).toBe("INTERNAL_SERVER_ERROR");
        expect(errorCode(await t.gql(RESET, { e: email, c: "anything" }))).toBe("INTERNAL_SERVER_ERROR");
      }
    } finally {
      providerDown = false;
    }
    await expectOwnerUnhindered(email);
  });
});

test("a token longer than any provider's is refused without asking the provider", async () => {
  const t = await withTurnstile();
  try {
    const asked = received.length;
    const res = await t.gql(LOGIN, { input: { email: uniqueEmail(), password: STRONG_PASSWORD, captchaToken: "h".repeat(9_000) } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "captchaToken" });
    expect(received.length).toBe(asked);
  } finally {
    await t.close();
  }
});

test("calls refused by their client's own limit cost the address they name nothing either", async () => {
  const limits = { RATE_LIMIT_PASSWORD_RESET_IP: "2/1h", RATE_LIMIT_PASSWORD_RESET_EMAIL: "2/1h", TRUST_PROXY: "true" };
  const t = await withTurnstile(limits);
  try {
    const email = uniqueEmail("victim");
    const from = (ip: string, c: string | null) => t.gql(RESET, { e: email, c }, { headers: { "x-forwarded-for": ip } });
    // The attacker spends its own address's allowance, then goes on: refused, every call.
    for (let i = 0; i < 2; i++) expect(errorCode(await from("203.0.113.66", null))).toBe("BAD_USER_INPUT");
    for (let i = 0; i < 4; i++) expect(errorCode(await from("203.0.113.66", null))).toBe("RATE_LIMITED");
    // The owner, elsewhere, still has both of the address's reset emails.
    for (let i = 0; i < 2; i++) expect((await from("198.51.100.7", "human")).data).toEqual({ requestPasswordReset: true });
    expect(errorCode(await from("198.51.100.8", "human"))).toBe("RATE_LIMITED");
  } finally {
    await t.close();
  }
});

test("a provider that cannot be reached fails closed with the fixed internal error; the cause is only logged", async () => {
  const logs = captureLogs("error");
  const t = await startTestApp(
    { CAPTCHA_PROVIDER: "hcaptcha", CAPTCHA_SECRET: SECRET, CAPTCHA_SITE_KEY: "site-key", CAPTCHA_VERIFY_URL: "http://127.0.0.1:1/siteverify" },
    { logger: logs.logger },
  );
  try {
    const res = await t.gql(LOGIN, { input: { email: uniqueEmail(), password: STRONG_PASSWORD, captchaToken: "human" } });
    expect(res.errors?.[0]).toMatchObject({ message: INTERNAL_MESSAGE, extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(JSON.stringify(res.errors)).not.toMatch(/captcha|siteverify|fetch failed|ECONNREFUSED|127\.0\.0\.1/i);
    expect(logs.text()).toMatch(/Captcha verification is unavailable[\s\S]*(fetch failed|ECONNREFUSED)/);
  } finally {
    await t.close();
  }
});

test("without a provider no captchaToken is needed", async () => {
  const t = await startTestApp();
  try {
    expect((await register(t)).user.id).toBeDefined();
  } finally {
    await t.close();
  }
});

import type { GraphQLResolveInfo } from "graphql";
import { Redis } from "ioredis";
import { createTestRedis } from "../helpers/redis";
import { createTestDatabase } from "../helpers/databases";
import { captureLogs } from "../helpers/log-capture";
import { startSmtpReceiver } from "../helpers/smtp-receiver";
import type { AppError } from "../../src/errors";
import { createContext } from "../../src/graphql/context";
import { RateLimit } from "../../src/graphql/middlewares/rate-limit";
import { errorCode, GENEROUS_RATE_LIMITS, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from "../helpers/test-app";

const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { user { id } } }`;

// The shipped defaults, not the generous limits the functional tests run with.
const DEFAULTS = Object.fromEntries(Object.keys(GENEROUS_RATE_LIMITS).map((name) => [name, undefined]));

let t: TestApp;
beforeAll(async () => {
  // Every call counts against the address rule, and these tests all come from 127.0.0.1:
  // its default (50 logins) would end them early. It has tests of its own below.
  t = await startTestApp({ ...DEFAULTS, RATE_LIMIT_LOGIN_IP: GENEROUS_RATE_LIMITS.RATE_LIMIT_LOGIN_IP });
});
afterAll(() => t.close());

const login = (app: TestApp, email: string, password: string) => app.gql(LOGIN, { email, password });

/** A registration that claims, through X-Forwarded-For, to come from `ip`. */
const registerVia = (app: TestApp, ip: string) =>
  app.gql(`mutation($e: String!) { register(input: { email: $e, password: "plum-kettle-orbit-42" }) { user { id } } }`, { e: uniqueEmail() }, {
    headers: { "x-forwarded-for": ip },
  });

describe("login, per account (5 failures per 15 minutes by default)", () => {
  test("30 simultaneous wrong passwords: only 5 reach the password check", async () => {
    const { user } = await register(t);
    const results = await Promise.all(Array.from({ length: 30 }, () => login(t, user.email, "wrong-password-guess")));
    const codes = results.map(errorCode);
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(5);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(25);
    const limited = results.find((r) => errorCode(r) === "RATE_LIMITED")!;
    expect(limited.errors?.[0]?.extensions.retryAfter).toBeGreaterThan(800);
    expect(limited.errors?.[0]?.extensions.retryAfter).toBeLessThanOrEqual(900);
  });

  test("once limited, even the right password is refused", async () => {
    const { user } = await register(t);
    for (let i = 0; i < 5; i++) await login(t, user.email, "wrong-password-guess");
    expect(errorCode(await login(t, user.email, STRONG_PASSWORD))).toBe("RATE_LIMITED");
  });

  test("a completed password reset lifts it: the owner signs in with the new password", async () => {
    const smtp = await startSmtpReceiver();
    const app = await startTestApp({ ...DEFAULTS, SMTP_URL: smtp.url, FRONTEND_URL: "http://frontend.test/account" });
    try {
      const { user } = await register(app);
      const { user: other } = await register(app);
      for (const email of [user.email, other.email]) for (let i = 0; i < 5; i++) await login(app, email, "wrong-password-guess");
      expect(errorCode(await login(app, user.email, STRONG_PASSWORD))).toBe("RATE_LIMITED");

      await app.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: user.email });
      const mail = await smtp.waitForMail(user.email, (m) => m.text.includes("reset-password?token="));
      const token = /reset-password\?token=([\w-]+)/.exec(mail.text)![1];
      expect((await app.gql(`mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }`, { t: token, p: "quiet-harbour-lantern-8" })).data?.resetPassword).toBe(true);

      expect((await login(app, user.email, "quiet-harbour-lantern-8")).data?.login.user.id).toBe(user.id);
      // Only that account's count: another stays limited.
      expect(errorCode(await login(app, other.email, STRONG_PASSWORD))).toBe("RATE_LIMITED");
    } finally {
      await app.close();
      await smtp.close();
    }
  });

  test("changing the address's case or padding it buys no attempts", async () => {
    const { user } = await register(t);
    const variants = [user.email, user.email.toUpperCase(), ` ${user.email}`, `${user.email} `, user.email.replace(/^./, (c) => c.toUpperCase())];
    for (const email of variants) await login(t, email, "wrong-password-guess");
    expect(errorCode(await login(t, user.email.toUpperCase(), "wrong-password-guess"))).toBe("RATE_LIMITED");
  });

  test("aliases in one request cannot multiply attempts", async () => {
    const { user } = await register(t);
    const fields = Array.from({ length: 8 }, (_, i) => `a${i}: login(input: { email: $email, password: "wrong-password-guess" }) { user { id } }`);
    const burst = () => t.gql(`mutation($email: String!) { ${fields.join("\n")} }`, { email: user.email });
    // Mutation fields run one after another and a failed login ends the request: one attempt each.
    for (let i = 0; i < 5; i++) expect((await burst()).errors?.map((e) => e.extensions.code)).toEqual(["UNAUTHENTICATED"]);
    expect((await burst()).errors?.map((e) => e.extensions.code)).toEqual(["RATE_LIMITED"]);
  });

  test("aliases that succeed are counted one by one", async () => {
    const { user } = await register(t);
    const fields = Array.from({ length: 5 }, (_, i) => `a${i}: requestPasswordReset(email: $email)`);
    const res = await t.gql(`mutation($email: String!) { ${fields.join("\n")} }`, { email: user.email });
    expect(res.errors?.map((e) => [e.path?.[0], e.extensions.code])).toEqual([["a3", "RATE_LIMITED"]]);
  });

  test("successful logins are not failures: a user may sign in often", async () => {
    const { user } = await register(t);
    for (let i = 0; i < 8; i++) expect((await login(t, user.email, STRONG_PASSWORD)).data?.login.user.id).toBe(user.id);
  });

  test("unknown addresses are limited like known ones", async () => {
    const email = uniqueEmail("ghost");
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push(errorCode(await login(t, email, "wrong-password-guess")));
    expect(codes).toEqual([...Array(5).fill("UNAUTHENTICATED"), "RATE_LIMITED"]);
  });
});

test("a refusal is a rate_limited event with the refused request's id, naming which rule but not the address", async () => {
  const logs = captureLogs();
  const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_LOGIN_ACCOUNT: "1/15m" }, { logger: logs.logger });
  try {
    const { user } = await register(app);
    await login(app, user.email, "wrong-password-guess");
    const refused = await app.gql(LOGIN, { email: user.email, password: "wrong-password-guess" }, { headers: { "x-request-id": "refused-login-1" } });
    expect(errorCode(refused)).toBe("RATE_LIMITED");
    const events = logs.records().filter((record) => record.event === "rate_limited");
    expect(events).toEqual([expect.objectContaining({ operation: "login", limit: "login", by: "email", requestId: "refused-login-1", ip: "127.0.0.1", level: 40 })]);
    expect(JSON.stringify(events)).not.toContain(user.email);
  } finally {
    await app.close();
  }
});

test("a refusal by a rule that counts the caller names the caller's id in its event, as every other event does", async () => {
  const logs = captureLogs();
  const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_ONE_TIME_TOKEN_USER: "1/1m" }, { logger: logs.logger });
  try {
    const auth = await register(app);
    const issue = () => app.gql(`mutation { issueOneTimeToken(purpose: "export") { token } }`, {}, { token: auth.accessToken });
    expect((await issue()).errors).toBeUndefined();
    expect(errorCode(await issue())).toBe("RATE_LIMITED");
    const events = logs.records().filter((record) => record.event === "rate_limited");
    expect(events).toEqual([expect.objectContaining({ operation: "issueOneTimeToken", by: "user", userId: auth.user.id })]);
  } finally {
    await app.close();
  }
});

test("a login refused by the address rule is not a failure against the account", async () => {
  const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_LOGIN_IP: "3/1h", TRUST_PROXY: "true" });
  try {
    const { user } = await register(app);
    const guessFrom = (ip: string) => app.gql(LOGIN, { email: user.email, password: "wrong-password-guess" }, { headers: { "x-forwarded-for": ip } });
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push(errorCode(await guessFrom("10.0.0.1")));
    expect(codes).toEqual([...Array(3).fill("UNAUTHENTICATED"), ...Array(3).fill("RATE_LIMITED")]);
    // Three failures so far, not six: two more guesses from elsewhere reach the password check.
    codes.length = 0;
    for (let i = 0; i < 3; i++) codes.push(errorCode(await guessFrom("10.0.0.2")));
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]);
  } finally {
    await app.close();
  }
});

test("the count starts over when the window passes", async () => {
  const short = await startTestApp({ ...DEFAULTS, RATE_LIMIT_LOGIN_ACCOUNT: "2/2s" });
  try {
    const { user } = await register(short);
    await login(short, user.email, "wrong-password-guess");
    await login(short, user.email, "wrong-password-guess");
    expect(errorCode(await login(short, user.email, STRONG_PASSWORD))).toBe("RATE_LIMITED");
    // The store's own clock (Redis's, when it is Redis) closes the window, so this waits for real.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await login(short, user.email, STRONG_PASSWORD)).data?.login.user.id).toBe(user.id);
  } finally {
    await short.close();
  }
});

test("retryAfter is the time left in the window, and the longest wait of the rules that refuse", async () => {
  const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_LOGIN_ACCOUNT: "1/4s", RATE_LIMIT_LOGIN_IP: "3/1h" });
  const retryAfter = (res: Awaited<ReturnType<typeof login>>) => res.errors?.[0]?.extensions.retryAfter as number;
  try {
    const { user } = await register(app);
    await login(app, user.email, "wrong-password-guess");
    // Refused by the account's rule alone (the address has made 2 of its 3).
    const first = await login(app, user.email, "wrong-password-guess");
    expect(errorCode(first)).toBe("RATE_LIMITED");
    expect(retryAfter(first)).toBeLessThanOrEqual(4);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const later = await login(app, user.email, "wrong-password-guess");
    expect(errorCode(later)).toBe("RATE_LIMITED");
    expect(retryAfter(later)).toBeLessThan(retryAfter(first));
    // The address's fourth: its hour-long rule refuses too, and its wait is the one to tell.
    const both = await login(app, user.email, "wrong-password-guess");
    expect(retryAfter(both)).toBeGreaterThan(3_000);
  } finally {
    await app.close();
  }
});

describe("per client address", () => {
  test("register: 10 an hour from one address", async () => {
    const app = await startTestApp({ ...DEFAULTS });
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          app.gql(`mutation($e: String!) { register(input: { email: $e, password: "plum-kettle-orbit-42" }) { user { id } } }`, { e: uniqueEmail() }),
        ),
      );
      expect(results.filter((r) => r.data?.register)).toHaveLength(10);
      expect(results.filter((r) => errorCode(r) === "RATE_LIMITED")).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  test("TRUST_PROXY off: X-Forwarded-For does not give a client a fresh address", async () => {
    const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_REGISTER_IP: "2/1h" });
    try {
      const registerFrom = (ip: string) => registerVia(app, ip);
      await registerFrom("10.0.0.1");
      await registerFrom("10.0.0.2");
      expect(errorCode(await registerFrom("10.0.0.3"))).toBe("RATE_LIMITED");
    } finally {
      await app.close();
    }
  });

  test("TRUST_PROXY on: each forwarded client has its own count", async () => {
    const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_REGISTER_IP: "2/1h", TRUST_PROXY: "true" });
    try {
      const registerFrom = (ip: string) => registerVia(app, ip);
      await registerFrom("10.0.0.1");
      await registerFrom("10.0.0.1");
      expect(errorCode(await registerFrom("10.0.0.1"))).toBe("RATE_LIMITED");
      expect((await registerFrom("10.0.0.2")).data?.register.user.id).toEqual(expect.any(String));
    } finally {
      await app.close();
    }
  });

  test("an IPv6 host counts as its /64, whichever address in it it takes; IPv4 written as IPv6 counts as itself", async () => {
    const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_REGISTER_IP: "2/1h", TRUST_PROXY: "true" });
    try {
      const registerFrom = (ip: string) => registerVia(app, ip);
      await registerFrom("2001:db8:1:2::a");
      await registerFrom("2001:db8:1:2:ffff:0:0:b");
      expect(errorCode(await registerFrom("2001:db8:1:2:1234:5678:9abc:def0"))).toBe("RATE_LIMITED");
      expect((await registerFrom("2001:db8:1:3::a")).data?.register.user.id).toEqual(expect.any(String));

      await registerFrom("198.51.100.7");
      await registerFrom("::ffff:198.51.100.7");
      expect(errorCode(await registerFrom("198.51.100.7"))).toBe("RATE_LIMITED");
    } finally {
      await app.close();
    }
  });

  // A client that resets its connection at once leaves no address to read, and which one the
  // server sees then is a matter of timing: the rule is driven directly, with the app's services.
  test("clients of unknown address share one count rather than escaping the rule", async () => {
    const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_REGISTER_IP: "2/1h" });
    try {
      const limit = RateLimit("register");
      const registerFrom = async (ip: string | null) => {
        const context = createContext(app.app.services, { authorization: undefined, client: { ip, userAgent: null, requestId: null } });
        const resolver = { root: {}, args: { input: { email: uniqueEmail() } }, context, info: { fieldName: "register" } as GraphQLResolveInfo };
        return limit(resolver, async () => "registered").catch((error: unknown) => (error as AppError).code);
      };
      expect(await registerFrom(null)).toBe("registered");
      expect(await registerFrom(null)).toBe("registered");
      expect(await registerFrom(null)).toBe("RATE_LIMITED");
      expect(await registerFrom("198.51.100.7")).toBe("registered");
    } finally {
      await app.close();
    }
  });

  // Each proxy appends the address it saw; whatever stands to the left of that, the client wrote.
  test.each([
    ["true", (spoofed: string) => `${spoofed}, 198.51.100.7`],
    ["2", (spoofed: string) => `${spoofed}, 198.51.100.7, 10.0.0.5`],
    ["127.0.0.1,10.0.0.0/8", (spoofed: string) => `${spoofed}, 198.51.100.7, 10.0.0.5`],
  ])("TRUST_PROXY=%s: addresses a client writes into X-Forwarded-For buy no attempts", async (trustProxy, forwardedFor) => {
    const app = await startTestApp({ ...DEFAULTS, RATE_LIMIT_REGISTER_IP: "2/1h", TRUST_PROXY: trustProxy });
    try {
      const registerFrom = (spoofed: string) => registerVia(app, forwardedFor(spoofed));
      await registerFrom("203.0.113.1");
      await registerFrom("203.0.113.2");
      expect(errorCode(await registerFrom("203.0.113.3"))).toBe("RATE_LIMITED");
    } finally {
      await app.close();
    }
  });
});

test("requestPasswordReset: 3 an hour per address, whatever its case", async () => {
  const { user } = await register(t);
  const codes = [];
  for (const email of [user.email, user.email.toUpperCase(), user.email, ` ${user.email}`]) {
    codes.push(errorCode(await t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: email })) ?? "ok");
  }
  expect(codes).toEqual(["ok", "ok", "ok", "RATE_LIMITED"]);
});

test("changePassword: wrong current passwords are limited per user", async () => {
  const auth = await register(t);
  const change = (current: string) =>
    t.gql(`mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a-brand-new-passphrase") }`, { c: current }, { token: auth.accessToken });
  for (let i = 0; i < 5; i++) expect(errorCode(await change("not-my-password"))).toBe("BAD_USER_INPUT");
  expect(errorCode(await change(STRONG_PASSWORD))).toBe("RATE_LIMITED");
});

test("deleteAccount: its wrong passwords count with changePassword's, and a refused call deletes nothing", async () => {
  const auth = await register(t);
  const as = { token: auth.accessToken };
  const change = (current: string) => t.gql(`mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a-brand-new-passphrase") }`, { c: current }, as);
  const remove = (password: string) => t.gql(`mutation($p: String!) { deleteAccount(password: $p) }`, { p: password }, as);
  for (let i = 0; i < 3; i++) expect(errorCode(await change("not-my-password"))).toBe("BAD_USER_INPUT");
  for (let i = 0; i < 2; i++) expect(errorCode(await remove("not-my-password"))).toBe("BAD_USER_INPUT");
  expect(errorCode(await remove(STRONG_PASSWORD))).toBe("RATE_LIMITED");
  expect(errorCode(await change(STRONG_PASSWORD))).toBe("RATE_LIMITED");
  expect((await t.gql(`{ me { id } }`, {}, as)).data).toEqual({ me: { id: auth.user.id } });
});

test("requestEmailChange: the links it sends count with requestEmailVerification's (3 an hour per account), and its wrong passwords with changePassword's failures only", async () => {
  const auth = await register(t);
  const as = { token: auth.accessToken };
  const move = (password: string) => t.gql(`mutation($e: String!, $p: String!) { requestEmailChange(newEmail: $e, password: $p) }`, { e: uniqueEmail("moved"), p: password }, as);
  const change = (current: string) => t.gql(`mutation($c: String!) { changePassword(currentPassword: $c, newPassword: "a-brand-new-passphrase") }`, { c: current }, as);
  const resend = () => t.gql(`mutation { requestEmailVerification }`, {}, as);
  expect(errorCode(await move(STRONG_PASSWORD))).toBeUndefined();
  // A stolen session's guesses at the password send nothing, so they spend none of the owner's
  // emails: neither those checked nor those refused once the failures reach their limit.
  for (let i = 0; i < 5; i++) expect(errorCode(await move("not-my-password"))).toBe("BAD_USER_INPUT");
  for (let i = 0; i < 3; i++) expect(errorCode(await move("not-my-password"))).toBe("RATE_LIMITED");
  expect(errorCode(await change(STRONG_PASSWORD))).toBe("RATE_LIMITED");
  for (let i = 0; i < 2; i++) expect(errorCode(await resend())).toBeUndefined();
  expect(errorCode(await resend())).toBe("RATE_LIMITED");
});

// In the embedded mode each process has its own in-process store: sharing limits between
// instances is what REDIS_URL is for, so this part runs with TEST_REDIS_URL.
(process.env.TEST_REDIS_URL ? test : test.skip)("limits hold across two instances sharing Redis", async () => {
  const database = await createTestDatabase({ shared: true });
  const redis = createTestRedis();
  const a = await startTestApp(DEFAULTS, { database, redis });
  const b = await startTestApp(DEFAULTS, { database, redis });
  try {
    const { user } = await register(a);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 ? a : b, user.email, "wrong-password-guess")));
    expect(results.filter((r) => errorCode(r) === "UNAUTHENTICATED")).toHaveLength(5);
    expect(errorCode(await login(b, user.email, STRONG_PASSWORD))).toBe("RATE_LIMITED");
  } finally {
    await a.close();
    await b.close();
    await redis.cleanup();
    await database.drop();
  }
});

// The keys themselves are only visible in Redis.
(process.env.TEST_REDIS_URL ? test : test.skip)("a rate-limit key has one size and names no address, whatever the email argument", async () => {
  const redis = createTestRedis();
  const app = await startTestApp(DEFAULTS, { redis });
  const client = new Redis(redis.url!);
  try {
    const huge = `${"x".repeat(50_000)}@example.com`;
    await app.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: huge });
    await login(app, "Someone@Example.com", "wrong-password-guess");
    const keys = await client.keys(`${redis.keyPrefix}rl:*`);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) {
      expect(key.length).toBeLessThan(redis.keyPrefix.length + 120);
      expect(key).not.toMatch(/example\.com/i);
    }
  } finally {
    client.disconnect();
    await app.close();
    await redis.cleanup();
  }
});

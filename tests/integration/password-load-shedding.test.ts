import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { startSmtpReceiver } from "../helpers/smtp-receiver";
import { errorCode, register, SERVICE_ARGON2, startTestApp, STRONG_PASSWORD, type GraphQLResponse, type TestApp } from "../helpers/test-app";

const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { accessToken } }`;
const CONCURRENCY = 1;
const MAX_QUEUE = 2;
const BURST = 12;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    ...SERVICE_ARGON2,
    ARGON2_CONCURRENCY: String(CONCURRENCY),
    ARGON2_MAX_QUEUE: String(MAX_QUEUE),
    // Some hundreds of ms per hash, so the whole burst reaches the hasher while the first one runs.
    ARGON2_TIME_COST: "40",
  });
});
afterAll(() => t.close());

test("past ARGON2_MAX_QUEUE waiting hashes, logins are refused at once with RATE_LIMITED and never hashed", async () => {
  const { user } = await register(t);
  const burst: GraphQLResponse[] = await Promise.all(Array.from({ length: BURST }, () => t.gql(LOGIN, { email: user.email, password: STRONG_PASSWORD })));

  const succeeded = burst.filter((res) => res.data?.login?.accessToken);
  const shed = burst.filter((res) => errorCode(res) === "RATE_LIMITED");
  expect(succeeded.length + shed.length).toBe(BURST);
  expect(succeeded.length).toBeGreaterThanOrEqual(1);
  expect(succeeded.length).toBeLessThanOrEqual(CONCURRENCY + MAX_QUEUE);
  for (const res of shed) expect(res.errors?.[0]?.extensions.retryAfter).toBe(1);

  // Every login that was hashed is counted, as a success; the refused ones reached no password check.
  const samples = await fetchMetrics(t.url);
  expect(sampleValue(samples, "auth_logins_total", { outcome: "success" })).toBe(succeeded.length);
  expect(sampleValue(samples, "auth_logins_total", { outcome: "failure" })).toBe(0);
  expect(sampleValue(samples, "auth_graphql_requests_total", { operation: "login", outcome: "RATE_LIMITED" })).toBe(shed.length);

  const after = await t.gql(LOGIN, { email: user.email, password: STRONG_PASSWORD });
  expect(after.errors).toBeUndefined();
  expect(after.data?.login?.accessToken).toEqual(expect.any(String));
});

describe("with no call allowed to wait (ARGON2_MAX_QUEUE=0)", () => {
  const FRONTEND = "http://frontend.test/account";
  const RESET = `mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }`;
  let app: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    app = await startTestApp({
      ...SERVICE_ARGON2,
      ARGON2_CONCURRENCY: "1",
      ARGON2_MAX_QUEUE: "0",
      ARGON2_TIME_COST: "40",
      RATE_LIMIT_LOGIN_ACCOUNT: "2/15m",
      SMTP_URL: smtp.url,
      FRONTEND_URL: FRONTEND,
    });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
  });
  // Takes the only slot at once (synchronously): every password call until it ends is shed.
  const holdTheHasher = () => app.app.services.passwords.hash("holding-the-only-slot");

  test("shed logins are no failed attempts: they do not lock the account", async () => {
    const { user } = await register(app);
    const held = holdTheHasher();
    for (let i = 0; i < 3; i++) {
      const res = await app.gql(LOGIN, { email: user.email, password: STRONG_PASSWORD });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    }
    await held;
    // Three counts against a limit of two would refuse even the right password now.
    expect((await app.gql(LOGIN, { email: user.email, password: STRONG_PASSWORD })).data?.login.accessToken).toEqual(expect.any(String));
  });

  test("a shed password reset keeps its token", async () => {
    const { user } = await register(app);
    await app.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: user.email });
    const pattern = new RegExp(`${FRONTEND}/reset-password\\?token=([A-Za-z0-9_-]+)`);
    const token = pattern.exec((await smtp.waitForMail(user.email, (m) => pattern.test(m.text))).text)![1]!;
    const held = holdTheHasher();
    expect(errorCode(await app.gql(RESET, { token, password: "fresh-harbor-lamp-9" }))).toBe("RATE_LIMITED");
    await held;
    expect((await app.gql(RESET, { token, password: "fresh-harbor-lamp-9" })).data).toEqual({ resetPassword: true });
  });
});

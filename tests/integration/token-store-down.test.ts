import { captureLogs } from "../helpers/log-capture";
import { register, startTestApp, STRONG_PASSWORD, type TestApp } from "../helpers/test-app";

// Nothing listens on port 1: the service must start, say so in /readyz, and fail token
// operations fast and cleanly while everything else keeps working.
let t: TestApp;
const logs = captureLogs();
beforeAll(async () => {
  t = await startTestApp({ REDIS_URL: "redis://127.0.0.1:1" }, { logger: logs.logger });
});
afterAll(() => t.close());

test("/readyz is 503 and names Redis", async () => {
  const res = await fetch(`${t.url}/readyz`);
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ status: "unavailable", checks: { database: "ok", redis: "unavailable" } });
});

test("requestPasswordReset answers a known address as it answers an unknown one", async () => {
  const auth = await register(t);
  const request = (email: string) => t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: email });
  // The token is stored after the answer: the store's failure cannot tell that the account exists.
  expect((await request(auth.user.email)).data).toEqual({ requestPasswordReset: true });
  expect((await request(`nobody-${auth.user.email}`)).data).toEqual({ requestPasswordReset: true });
});

test("token operations fail fast with a clean INTERNAL_SERVER_ERROR", async () => {
  const auth = await register(t);
  const started = Date.now();
  const res = await t.gql(`mutation { issueOneTimeToken(purpose: "x") { token } }`, {}, { token: auth.accessToken });
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(res.errors?.[0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  expect(JSON.stringify(res.errors)).not.toMatch(/redis|ECONNREFUSED|127\.0\.0\.1/i);
  // Sign-in does not depend on the token store; rate limits let calls through while it is down.
  expect((await t.gql(`{ me { id } }`, {}, { token: auth.accessToken })).data?.me.id).toBe(auth.user.id);
  const login = await t.gql(`mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { user { id } } }`, {
    e: auth.user.email,
    p: STRONG_PASSWORD,
  });
  expect(login.data?.login.user.id).toBe(auth.user.id);
});

test("a call let through uncounted is logged with its operation and the id of its request", async () => {
  const auth = await register(t);
  const login = await t.gql(
    `mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { user { id } } }`,
    { e: auth.user.email, p: STRONG_PASSWORD },
    { headers: { "x-request-id": "uncounted-1" } },
  );
  expect(login.data?.login.user.id).toBe(auth.user.id);
  const uncounted = logs.records().filter((record) => record.msg === "rate limit store unavailable; call not counted" && record.requestId === "uncounted-1");
  expect(uncounted.length).toBeGreaterThan(0);
  expect(uncounted.every((record) => record.operation === "login")).toBe(true);
});

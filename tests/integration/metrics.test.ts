import { captureLogs } from "../helpers/log-capture";
import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { errorCode, register, SERVICE_ARGON2, startTestApp, STRONG_PASSWORD, type TestApp } from "../helpers/test-app";

const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { refreshToken } }`;
const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { refreshToken } }`;

let t: TestApp;
beforeAll(async () => {
  // At the service's argon2 cost, a login takes longer than the shortest latency bucket.
  t = await startTestApp({ ...SERVICE_ARGON2, REFRESH_TOKEN_REUSE_INTERVAL: "0" });
});
afterAll(() => t.close());

test("GET /metrics answers the Prometheus text format, with the process default metrics", async () => {
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  expect(text).toMatch(/^# HELP auth_graphql_requests_total /m);
  for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
    expect(text).toMatch(new RegExp(`^${name} `, "m"));
  }
});

test("logins, GraphQL operations and their latency are counted by outcome", async () => {
  const user = await register(t);
  await t.gql(LOGIN, { email: user.user.email, password: STRONG_PASSWORD });
  expect(errorCode(await t.gql(LOGIN, { email: user.user.email, password: "not-the-password-1" }))).toBe("UNAUTHENTICATED");
  expect(errorCode(await t.gql(LOGIN, { email: "nobody@example.com", password: "not-the-password-1" }))).toBe("UNAUTHENTICATED");

  const samples = await fetchMetrics(t.url);
  expect(sampleValue(samples, "auth_logins_total", { outcome: "success" })).toBe(1);
  expect(sampleValue(samples, "auth_logins_total", { outcome: "failure" })).toBe(2);
  expect(sampleValue(samples, "auth_graphql_requests_total", { operation: "login", outcome: "ok" })).toBe(1);
  expect(sampleValue(samples, "auth_graphql_requests_total", { operation: "login", outcome: "UNAUTHENTICATED" })).toBe(2);
  expect(sampleValue(samples, "auth_graphql_request_duration_seconds_count", { operation: "login" })).toBe(3);
  // argon2 runs in every login: none is in the 5 ms bucket, all are under +Inf.
  expect(sampleValue(samples, "auth_graphql_request_duration_seconds_bucket", { operation: "login", le: "0.005" })).toBe(0);
  expect(sampleValue(samples, "auth_graphql_request_duration_seconds_bucket", { operation: "login", le: "+Inf" })).toBe(3);
  expect(sampleValue(samples, "auth_http_request_duration_seconds_count", { method: "POST", route: "/graphql", status_code: "200" })).toBeGreaterThanOrEqual(4);
});

test("the operation label is the root field, never the client's operation name", async () => {
  await t.gql(`query Anything_8d1e { me { id } }`);
  await t.gql(`query { a: me { id } b: __typename }`);
  await t.gql(`{ notAField }`);
  // Through fragments, and once however many aliases select it.
  await t.gql(`{ ...Caller } fragment Caller on Query { one: me { id } ... on Query { two: me { id } } }`);
  const res = await fetch(`${t.url}/metrics`);
  const text = await res.text();
  expect(text).not.toContain("Anything_8d1e");
  const samples = await fetchMetrics(t.url);
  expect(sampleValue(samples, "auth_graphql_requests_total", { operation: "me", outcome: "ok" })).toBe(2);
  expect(sampleValue(samples, "auth_graphql_requests_total", { operation: "multiple", outcome: "ok" })).toBe(1);
  expect(sampleValue(samples, "auth_graphql_requests_total", { operation: "none", outcome: "GRAPHQL_VALIDATION_FAILED" })).toBe(1);
});

test("a reused refresh token is counted", async () => {
  const user = await register(t);
  await t.gql(REFRESH, { token: user.refreshToken });
  expect(errorCode(await t.gql(REFRESH, { token: user.refreshToken }))).toBe("UNAUTHENTICATED");
  expect(sampleValue(await fetchMetrics(t.url), "auth_refresh_token_reuse_total")).toBe(1);
});

test("rate-limit hits are counted by operation", async () => {
  const limited = await startTestApp({ RATE_LIMIT_LOGIN_ACCOUNT: "2/1h" });
  try {
    const user = await register(limited);
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(errorCode(await limited.gql(LOGIN, { email: user.user.email, password: "not-the-password-1" })));
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]);
    expect(sampleValue(await fetchMetrics(limited.url), "auth_rate_limit_hits_total", { operation: "login" })).toBe(1);
  } finally {
    await limited.close();
  }
});

test("a rate-limit hit counts once per refused call, under the root field called, however many rules refused it", async () => {
  const logs = captureLogs();
  const limited = await startTestApp({ RATE_LIMIT_LOGIN_ACCOUNT: "1/1h", RATE_LIMIT_LOGIN_IP: "2/1h", RATE_LIMIT_CHANGE_PASSWORD_USER: "1/1h" }, { logger: logs.logger });
  try {
    const user = await register(limited);
    const codes = [];
    // The second is refused by the account's rule, the third by both (a refusal gives its count by email back).
    for (let i = 0; i < 3; i++) codes.push(errorCode(await limited.gql(LOGIN, { email: user.user.email, password: "not-the-password-1" })));
    expect(codes).toEqual(["UNAUTHENTICATED", "RATE_LIMITED", "RATE_LIMITED"]);
    // deleteAccount spends changePassword's budget of password guesses, but is counted as itself.
    const deleteAccount = () => limited.gql(`mutation { deleteAccount(password: "not-the-password-1") }`, {}, { token: user.accessToken });
    expect(errorCode(await deleteAccount())).not.toBe("RATE_LIMITED");
    expect(errorCode(await deleteAccount())).toBe("RATE_LIMITED");

    const samples = await fetchMetrics(limited.url);
    expect(sampleValue(samples, "auth_rate_limit_hits_total", { operation: "login" })).toBe(2);
    expect(sampleValue(samples, "auth_rate_limit_hits_total", { operation: "deleteAccount" })).toBe(1);
    expect(sampleValue(samples, "auth_rate_limit_hits_total", { operation: "changePassword" })).toBe(0);
    // The log names each rule that refused.
    const events = logs.records().filter((record) => record.event === "rate_limited");
    expect(events.map(({ operation, limit, by }) => ({ operation, limit, by }))).toEqual([
      { operation: "login", limit: "login", by: "email" },
      { operation: "login", limit: "login", by: "email" },
      { operation: "login", limit: "login", by: "ip" },
      { operation: "deleteAccount", limit: "changePassword", by: "user" },
    ]);
  } finally {
    await limited.close();
  }
});

test("two apps in one process keep their own counters", async () => {
  const other = await startTestApp();
  try {
    const samples = await fetchMetrics(other.url);
    expect(sampleValue(samples, "auth_logins_total", { outcome: "success" })).toBe(0);
    expect(sampleValue(samples, "auth_refresh_token_reuse_total")).toBe(0);
    expect(sampleValue(await fetchMetrics(t.url), "auth_logins_total", { outcome: "success" })).toBe(1);
  } finally {
    await other.close();
  }
});

test("with METRICS_TOKEN, /metrics answers only a scraper that sends it", async () => {
  const token = "scraper-token-0123456789abcdef";
  const guarded = await startTestApp({ METRICS_TOKEN: token });
  try {
    const scrape = (authorization?: string) => fetch(`${guarded.url}/metrics`, { headers: authorization ? { authorization } : {} });
    for (const authorization of [undefined, "Bearer wrong-token-0123456789abcdef", `Basic ${token}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`]) {
      const res = await scrape(authorization);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toMatch(/auth_/);
    }
    // The scheme is case-insensitive (RFC 9110).
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const res = await scrape(`${scheme} ${token}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^# HELP auth_graphql_requests_total /m);
    }
  } finally {
    await guarded.close();
  }
});

import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "../helpers/databases";
import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { createTestRedis, type TestRedis } from "../helpers/redis";
import { errorCode, register, startTestApp, type TestApp } from "../helpers/test-app";
import { describeWithPostgres } from "../helpers/with-postgres";

// Two instances behind one load balancer share nothing but PostgreSQL, Redis and the signing
// key. Sessions live in PostgreSQL, so this needs TEST_DATABASE_URL: the embedded database
// belongs to one process and two cannot open it. One-time, reset and verification tokens
// live in the token store, which is per process without Redis, so that part also needs
// TEST_REDIS_URL.
const testWithRedis = process.env.TEST_REDIS_URL ? test : test.skip;

const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken } }`;

describeWithPostgres("two instances sharing PostgreSQL and Redis", () => {
  let database: TestDatabase;
  let redis: TestRedis;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase({ shared: true });
    redis = createTestRedis();
    // Every instance signs and verifies with the same key: without a shared JWT_SECRET (or
    // JWT_PRIVATE_KEY) each would generate its own and refuse the other's access tokens.
    const env = { JWT_SECRET: randomBytes(48).toString("base64url"), REFRESH_TOKEN_REUSE_INTERVAL: "10" };
    a = await startTestApp(env, { database, redis });
    b = await startTestApp(env, { database, redis });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
    await redis?.cleanup();
  });

  test("an account registered on A signs in on B, and logging out on A ends the session on B at once", async () => {
    const user = await register(a);
    expect((await b.gql(`{ me { id email } }`, {}, { token: user.accessToken })).data?.me).toEqual({ id: user.user.id, email: user.user.email });
    expect((await a.gql(`mutation($t: String!) { logout(refreshToken: $t) }`, { t: user.refreshToken })).data?.logout).toBe(true);
    expect(errorCode(await b.gql(`{ me { id } }`, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
  });

  test("a second tab refreshing on B within the interval gets the successor A issued", async () => {
    const user = await register(a);
    const onA = await a.gql(REFRESH, { token: user.refreshToken });
    const onB = await b.gql(REFRESH, { token: user.refreshToken });
    expect(onB.data?.refreshToken.refreshToken).toBe(onA.data?.refreshToken.refreshToken);
  });

  test("refreshing on A, then replaying an older token on B, is detected as reuse and ends the session everywhere", async () => {
    const user = await register(a);
    const first = (await a.gql(REFRESH, { token: user.refreshToken })).data?.refreshToken;
    const second = (await a.gql(REFRESH, { token: first.refreshToken })).data?.refreshToken;

    expect(errorCode(await b.gql(REFRESH, { token: user.refreshToken }))).toBe("UNAUTHENTICATED");
    expect(sampleValue(await fetchMetrics(b.url), "auth_refresh_token_reuse_total")).toBe(1);
    expect(errorCode(await a.gql(REFRESH, { token: second.refreshToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await a.gql(`{ me { id } }`, {}, { token: second.accessToken }))).toBe("UNAUTHENTICATED");
  });

  testWithRedis("a one-time token issued on A is consumed on B, once", async () => {
    const user = await register(a);
    const issued = await a.gql(`mutation { issueOneTimeToken(purpose: "handoff") { token } }`, {}, { token: user.accessToken });
    const consume = `mutation($token: String!) { consumeOneTimeToken(token: $token, purpose: "handoff") { purpose user { id } } }`;
    const token = issued.data?.issueOneTimeToken.token;

    const onB = await b.gql(consume, { token }, { token: user.accessToken });
    expect(onB.data?.consumeOneTimeToken).toEqual({ purpose: "handoff", user: { id: user.user.id } });
    expect(errorCode(await a.gql(consume, { token }, { token: user.accessToken }))).toBe("INVALID_TOKEN");
  });
});

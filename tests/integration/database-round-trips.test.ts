import { createTestDatabase, type TestDatabase } from "../helpers/databases";
import { relayPostgres, type TcpRelay } from "../helpers/tcp-relay";
import { register, startTestApp, STRONG_PASSWORD, type TestApp } from "../helpers/test-app";
import { describeWithPostgres } from "../helpers/with-postgres";

const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { refreshToken } }`;
const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { refreshToken } }`;

// Round trips are counted at a TCP relay in front of PostgreSQL: only with TEST_DATABASE_URL
// (the embedded database is called in-process).
describeWithPostgres("round trips to PostgreSQL", () => {
  let database: TestDatabase;
  let relay: TcpRelay;
  let t: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    const relayed = await relayPostgres(database.url!);
    relay = relayed.relay;
    t = await startTestApp({}, { database: { ...database, url: relayed.url } });
  });
  afterAll(async () => {
    await t?.close();
    await relay?.stop();
    await database?.drop();
  });

  /** Chunks sent to PostgreSQL while `call` runs: one per round trip (each statement waits for its answer). */
  async function roundTrips(call: () => Promise<unknown>): Promise<number> {
    const before = relay.chunksToServer;
    await call();
    return relay.chunksToServer - before;
  }

  // Statements are prepared per connection on their first run, and the pool hands a query the
  // connection idle longest: the fewest of three calls, after two to warm up, is a call on a
  // connection that has run the statements before.
  test("a login is two: the account by email, then the session with its first refresh token", async () => {
    const { user } = await register(t);
    const login = async () => {
      const res = await t.gql(LOGIN, { email: user.email, password: STRONG_PASSWORD });
      if (!res.data?.login) throw new Error(JSON.stringify(res.errors));
      return res.data.login.refreshToken as string;
    };
    await login();
    await login();
    expect(Math.min(await roundTrips(login), await roundTrips(login), await roundTrips(login))).toBe(2);
  });

  test("a refresh is one: the rotation, which reads the account too", async () => {
    let { refreshToken } = await register(t);
    const refresh = async () => {
      const res = await t.gql(REFRESH, { token: refreshToken });
      if (!res.data?.refreshToken) throw new Error(JSON.stringify(res.errors));
      refreshToken = res.data.refreshToken.refreshToken;
    };
    await refresh();
    await refresh();
    expect(Math.min(await roundTrips(refresh), await roundTrips(refresh), await roundTrips(refresh))).toBe(1);
  });
});

import { errorCode, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type TestApp } from "../helpers/test-app";

const ISSUE = `mutation($purpose: String!, $ttl: Int) { issueOneTimeToken(purpose: $purpose, ttlSeconds: $ttl) { token purpose expiresAt } }`;
const CONSUME = `mutation($token: String!, $purpose: String!) { consumeOneTimeToken(token: $token, purpose: $purpose) { purpose issuedAt user { id email } } }`;

let t: TestApp;
let owner: AuthPayload;
let stranger: AuthPayload;
let admin: AuthPayload;
beforeAll(async () => {
  t = await startTestApp({ ONE_TIME_TOKEN_TTL: "60", ONE_TIME_TOKEN_MAX_TTL: "600" });
  owner = await register(t);
  stranger = await register(t);
  const adminEmail = uniqueEmail("admin");
  await t.app.services.userAdmin.provisionAdmin(adminEmail, STRONG_PASSWORD);
  admin = (await t.gql(`mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }`, { e: adminEmail, p: STRONG_PASSWORD })).data?.login;
});
afterAll(() => t.close());

async function issue(purpose = "confirm:delete", ttl?: number): Promise<{ token: string; purpose: string; expiresAt: string }> {
  const res = await t.gql(ISSUE, { purpose, ttl }, { token: owner.accessToken });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.issueOneTimeToken;
}
const consume = (token: string, purpose: string, as: AuthPayload = owner) => t.gql(CONSUME, { token, purpose }, { token: as.accessToken });

describe("issueOneTimeToken", () => {
  test("issues a URL-safe token that expires after ONE_TIME_TOKEN_TTL by default", async () => {
    const before = Date.now();
    const issued = await issue();
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.purpose).toBe("confirm:delete");
    const expiresIn = new Date(issued.expiresAt).getTime() - before;
    expect(expiresIn).toBeGreaterThan(59_000);
    expect(expiresIn).toBeLessThan(62_000);
    const custom = await issue("export.v1", 600);
    expect(new Date(custom.expiresAt).getTime() - before).toBeGreaterThan(599_000);
  });

  test.each([
    ["ttlSeconds", "ok", 601],
    ["ttlSeconds", "ok", 0],
    ["purpose", "", undefined],
    ["purpose", "line\nbreak", undefined],
    ["purpose", "x".repeat(129), undefined],
  ])("a bad %s is BAD_USER_INPUT", async (field, purpose, ttl) => {
    const res = await t.gql(ISSUE, { purpose, ttl }, { token: owner.accessToken });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
  });

  // The contract's purpose is any String: a client names it as it likes.
  test.each(["orders/confirm", "delete account", "über", "https://app.example.com/confirm", "x".repeat(128)])("a purpose of any text is taken: %s", async (purpose) => {
    const { token } = await issue(purpose);
    expect((await consume(token, "another purpose")).errors?.[0]?.extensions?.code).toBe("INVALID_TOKEN");
    expect((await consume(token, purpose)).data?.consumeOneTimeToken.purpose).toBe(purpose);
  });

  test("consuming with a purpose no token can have is BAD_USER_INPUT and leaves the token usable", async () => {
    const { token } = await issue();
    for (const purpose of ["", "tab\there", "x".repeat(90_000)]) {
      expect((await consume(token, purpose)).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "purpose" });
    }
    expect((await consume(token, "confirm:delete")).data?.consumeOneTimeToken.purpose).toBe("confirm:delete");
  });

  test("a variable of the wrong type is BAD_USER_INPUT naming the argument it is passed as", async () => {
    const res = await t.gql(ISSUE, { purpose: "ok", ttl: "sixty" }, { token: owner.accessToken });
    expect(res.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "ttlSeconds" });
  });

  test("needs authentication", async () => {
    expect(errorCode(await t.gql(ISSUE, { purpose: "x" }))).toBe("UNAUTHENTICATED");
  });
});

describe("consumeOneTimeToken", () => {
  test("succeeds once for its issuer, naming the purpose, the issuer and when it was issued", async () => {
    const issued = await issue();
    const res = await consume(issued.token, "confirm:delete");
    expect(res.data?.consumeOneTimeToken).toMatchObject({ purpose: "confirm:delete", user: { id: owner.user.id, email: owner.user.email } });
    expect(Date.now() - new Date(res.data?.consumeOneTimeToken.issuedAt).getTime()).toBeLessThan(10_000);
    expect(errorCode(await consume(issued.token, "confirm:delete"))).toBe("INVALID_TOKEN");
  });

  test("another purpose is INVALID_TOKEN and leaves the token usable", async () => {
    const issued = await issue();
    expect(errorCode(await consume(issued.token, "something-else"))).toBe("INVALID_TOKEN");
    expect((await consume(issued.token, "confirm:delete")).data?.consumeOneTimeToken.purpose).toBe("confirm:delete");
  });

  test("another user is FORBIDDEN and the token stays usable by its owner; an admin may consume it", async () => {
    const issued = await issue();
    expect(errorCode(await consume(issued.token, "confirm:delete", stranger))).toBe("FORBIDDEN");
    expect((await consume(issued.token, "confirm:delete")).data?.consumeOneTimeToken.user.id).toBe(owner.user.id);
    const forAdmin = await issue();
    expect((await consume(forAdmin.token, "confirm:delete", admin)).data?.consumeOneTimeToken.user.id).toBe(owner.user.id);
  });

  test("50 concurrent consumes of one token: exactly one succeeds", async () => {
    const issued = await issue();
    const results = await Promise.all(Array.from({ length: 50 }, () => consume(issued.token, "confirm:delete")));
    expect(results.filter((r) => r.data?.consumeOneTimeToken)).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === "INVALID_TOKEN")).toHaveLength(49);
  });

  test("an expired token is INVALID_TOKEN", async () => {
    const issued = await issue("short", 1);
    // Redis expires keys by its own clock, so this test waits for real.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(errorCode(await consume(issued.token, "short"))).toBe("INVALID_TOKEN");
  });

  test("a token lives no longer than the session that issued it, nor past a password change or a deactivation", async () => {
    const LOGIN = `mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken refreshToken } }`;
    const account = await register(t);
    const session = async () => (await t.gql(LOGIN, { e: account.user.email, p: STRONG_PASSWORD })).data?.login as AuthPayload;
    const issueAs = async (as: AuthPayload) => (await t.gql(ISSUE, { purpose: "hand-off" }, { token: as.accessToken })).data?.issueOneTimeToken.token as string;

    // Its session logged out: refused to the admin it was handed to, and spent.
    const loggedOut = await session();
    const [forAdmin, forOtherSession] = [await issueAs(loggedOut), await issueAs(loggedOut)];
    expect((await t.gql(`mutation($t: String!) { logout(refreshToken: $t) }`, { t: loggedOut.refreshToken })).data?.logout).toBe(true);
    expect(errorCode(await consume(forAdmin, "hand-off", admin))).toBe("INVALID_TOKEN");
    // Still standing, the issuer's other session is not enough for a token of the ended one.
    const other = await session();
    expect(errorCode(await consume(forOtherSession, "hand-off", other))).toBe("INVALID_TOKEN");

    // Issued, then the password changed from the same session (which stays).
    const ofOther = await issueAs(other);
    const changed = await t.gql(`mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`, { c: STRONG_PASSWORD, n: "moss-harbour-lantern-3" }, { token: other.accessToken });
    expect(changed.data?.changePassword).toBe(true);
    expect(errorCode(await consume(ofOther, "hand-off", admin))).toBe("INVALID_TOKEN");

    // Issued, then the account deactivated.
    const last = (await t.gql(LOGIN, { e: account.user.email, p: "moss-harbour-lantern-3" })).data?.login as AuthPayload;
    const ofLast = await issueAs(last);
    const deactivated = await t.gql(`mutation($id: ID!) { setUserActive(id: $id, active: false) { id } }`, { id: account.user.id }, { token: admin.accessToken });
    expect(deactivated.errors).toBeUndefined();
    expect(errorCode(await consume(ofLast, "hand-off", admin))).toBe("INVALID_TOKEN");

    // While its session stands, another session of the same account may spend it.
    const issued = await issue();
    const ownerElsewhere = (await t.gql(LOGIN, { e: owner.user.email, p: STRONG_PASSWORD })).data?.login as AuthPayload;
    expect((await consume(issued.token, "confirm:delete", ownerElsewhere)).data?.consumeOneTimeToken.user.id).toBe(owner.user.id);
  });

  test("unknown tokens are INVALID_TOKEN and unauthenticated callers UNAUTHENTICATED", async () => {
    expect(errorCode(await consume("no-such-token", "confirm:delete"))).toBe("INVALID_TOKEN");
    expect(errorCode(await t.gql(CONSUME, { token: "x", purpose: "y" }))).toBe("UNAUTHENTICATED");
  });
});

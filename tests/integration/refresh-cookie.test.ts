import { AUTH_FIELDS, errorCode, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type TestApp } from "../helpers/test-app";

const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const REFRESH_FROM_COOKIE = `mutation { refreshToken { accessToken refreshToken user { id email } } }`;
const REFRESH = `mutation($r: String) { refreshToken(refreshToken: $r) { accessToken refreshToken } }`;
const LOGOUT_FROM_COOKIE = `mutation { logout }`;
const ME = `{ me { id } }`;

/** The refresh_token Set-Cookie of a response, split into its value and its attributes. */
function refreshCookieOf(headers: Headers): { value: string; attributes: Record<string, string | boolean> } | undefined {
  const line = headers.getSetCookie().find((cookie) => cookie.startsWith("refresh_token="));
  if (!line) return undefined;
  const [pair = "", ...rest] = line.split(/;\s*/);
  const attributes = Object.fromEntries(rest.map((part) => [part.split("=")[0]!.toLowerCase(), part.includes("=") ? part.slice(part.indexOf("=") + 1) : true]));
  return { value: pair.slice("refresh_token=".length), attributes };
}

const withCookie = (token: string) => ({ headers: { cookie: `refresh_token=${token}` } });

describe("REFRESH_TOKEN_COOKIE=true", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REFRESH_TOKEN_COOKIE: "true" });
  });
  afterAll(() => t.close());

  test("login sets the refresh token in an HttpOnly, Secure, SameSite=Strict cookie scoped to /graphql", async () => {
    const auth = await register(t);
    const res = await t.gql<{ login: AuthPayload }>(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD });
    const cookie = refreshCookieOf(res.headers);
    expect(cookie?.value).toBe(res.data?.login.refreshToken);
    expect(cookie?.attributes).toEqual({ "max-age": "2592000", path: "/graphql", httponly: true, secure: true, samesite: "Strict" });
  });

  test("register sets it too", async () => {
    const res = await t.gql<{ register: AuthPayload }>(`mutation($input: RegisterInput!) { register(input: $input) { refreshToken } }`, {
      input: { email: uniqueEmail(), password: STRONG_PASSWORD },
    });
    expect(refreshCookieOf(res.headers)?.value).toBe(res.data?.register.refreshToken);
  });

  test("refreshToken without an argument rotates the cookie's token and sets its successor", async () => {
    const auth = await register(t);
    const first = await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(auth.refreshToken));
    expect(first.errors).toBeUndefined();
    expect(first.data?.refreshToken.user).toEqual({ id: auth.user.id, email: auth.user.email });
    const successor = refreshCookieOf(first.headers)?.value;
    expect(successor).toBe(first.data?.refreshToken.refreshToken);
    expect(successor).not.toBe(auth.refreshToken);

    const second = await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(successor!));
    expect(second.errors).toBeUndefined();
    expect((await t.gql(ME, {}, { token: second.data?.refreshToken.accessToken })).data?.me.id).toBe(auth.user.id);
  });

  test("an argument wins over the cookie, and another session's rotation leaves the cookie alone", async () => {
    const mine = await register(t);
    const other = await register(t);
    const res = await t.gql(REFRESH, { r: mine.refreshToken }, withCookie(other.refreshToken));
    expect((await t.gql(ME, {}, { token: res.data?.refreshToken.accessToken })).data?.me.id).toBe(mine.user.id);
    expect(refreshCookieOf(res.headers)).toBeUndefined();
    expect((await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(other.refreshToken))).data?.refreshToken.user.id).toBe(other.user.id);
  });

  test("an argument naming the cookie's own token, or sent without a cookie, sets the successor", async () => {
    const auth = await register(t);
    const own = await t.gql(REFRESH, { r: auth.refreshToken }, withCookie(auth.refreshToken));
    expect(refreshCookieOf(own.headers)?.value).toBe(own.data?.refreshToken.refreshToken);
    const bare = await t.gql(REFRESH, { r: own.data?.refreshToken.refreshToken });
    expect(refreshCookieOf(bare.headers)?.value).toBe(bare.data?.refreshToken.refreshToken);
  });

  test("without an argument or a cookie, refreshToken is UNAUTHENTICATED and logout ends nothing", async () => {
    expect(errorCode(await t.gql(REFRESH_FROM_COOKIE))).toBe("UNAUTHENTICATED");
    expect((await t.gql(LOGOUT_FROM_COOKIE)).data).toEqual({ logout: false });
  });

  test("a refused cookie, unknown or of a session that ended, is cleared; a refused argument leaves the cookie alone", async () => {
    const unknown = await t.gql(REFRESH_FROM_COOKIE, {}, withCookie("not-a-token"));
    expect(errorCode(unknown)).toBe("UNAUTHENTICATED");
    expect(refreshCookieOf(unknown.headers)?.value).toBe("");

    const auth = await register(t);
    await t.gql(`mutation($r: String) { logout(refreshToken: $r) }`, { r: auth.refreshToken });
    const ended = await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(auth.refreshToken));
    expect(errorCode(ended)).toBe("UNAUTHENTICATED");
    expect(refreshCookieOf(ended.headers)?.value).toBe("");

    const mine = await register(t);
    const other = await t.gql(REFRESH, { r: "not-a-token" }, withCookie(mine.refreshToken));
    expect(errorCode(other)).toBe("UNAUTHENTICATED");
    expect(refreshCookieOf(other.headers)).toBeUndefined();
  });

  test("logout without an argument ends the cookie's session and clears the cookie", async () => {
    const auth = await register(t);
    const res = await t.gql(LOGOUT_FROM_COOKIE, {}, withCookie(auth.refreshToken));
    expect(res.data).toEqual({ logout: true });
    const cleared = refreshCookieOf(res.headers);
    expect(cleared?.value).toBe("");
    expect(cleared?.attributes).toMatchObject({ path: "/graphql", httponly: true });
    expect(new Date(cleared?.attributes.expires as string).getTime()).toBeLessThan(Date.now());
    expect(errorCode(await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(auth.refreshToken)))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(ME, {}, { token: auth.accessToken }))).toBe("UNAUTHENTICATED");
  });

  test("logout of another token ends that session and keeps the cookie, whose session lives on", async () => {
    const mine = await register(t);
    const other = await register(t);
    const res = await t.gql(`mutation($r: String) { logout(refreshToken: $r) }`, { r: other.refreshToken }, withCookie(mine.refreshToken));
    expect(res.data).toEqual({ logout: true });
    expect(refreshCookieOf(res.headers)).toBeUndefined();
    expect(errorCode(await t.gql(ME, {}, { token: other.accessToken }))).toBe("UNAUTHENTICATED");
    expect((await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(mine.refreshToken))).data?.refreshToken.user.id).toBe(mine.user.id);
    // Naming the cookie's own token clears it, as logout without an argument does.
    const own = await t.gql(`mutation($r: String) { logout(refreshToken: $r) }`, { r: other.refreshToken }, withCookie(other.refreshToken));
    expect(refreshCookieOf(own.headers)?.value).toBe("");
  });

  test("a logout that fails on the service keeps the cookie: its session still runs, and the cookie holds its only token", async () => {
    const auth = await register(t);
    const { accounts } = t.app.services;
    const logout = accounts.logout;
    accounts.logout = async () => {
      throw new Error("connection terminated");
    };
    try {
      const res = await t.gql(LOGOUT_FROM_COOKIE, {}, withCookie(auth.refreshToken));
      expect(errorCode(res)).toBe("INTERNAL_SERVER_ERROR");
      expect(refreshCookieOf(res.headers)).toBeUndefined();
    } finally {
      accounts.logout = logout;
    }
    // A session that had already ended does take its cookie with it.
    expect((await t.gql(LOGOUT_FROM_COOKIE, {}, withCookie(auth.refreshToken))).data).toEqual({ logout: true });
    const again = await t.gql(LOGOUT_FROM_COOKIE, {}, withCookie(auth.refreshToken));
    expect(errorCode(again)).toBe("UNAUTHENTICATED");
    expect(refreshCookieOf(again.headers)?.value).toBe("");
  });

  test("logoutAll clears the cookie", async () => {
    const auth = await register(t);
    const res = await t.gql(`mutation { logoutAll }`, {}, { token: auth.accessToken, ...withCookie(auth.refreshToken) });
    expect(res.data).toEqual({ logoutAll: true });
    expect(refreshCookieOf(res.headers)?.value).toBe("");
  });

  test("deleteAccount clears the cookie", async () => {
    const auth = await register(t);
    const res = await t.gql(`mutation($p: String!) { deleteAccount(password: $p) }`, { p: STRONG_PASSWORD }, { token: auth.accessToken, ...withCookie(auth.refreshToken) });
    expect(res.data).toEqual({ deleteAccount: true });
    expect(refreshCookieOf(res.headers)?.value).toBe("");
  });
});

describe("REFRESH_TOKEN_COOKIE off (the default)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  test("no cookie is set, and one sent along is ignored", async () => {
    const auth = await register(t);
    const login = await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD });
    expect(login.headers.getSetCookie()).toEqual([]);
    expect(errorCode(await t.gql(REFRESH_FROM_COOKIE, {}, withCookie(auth.refreshToken)))).toBe("UNAUTHENTICATED");
    const logout = await t.gql(LOGOUT_FROM_COOKIE, {}, withCookie(auth.refreshToken));
    expect(logout.data).toEqual({ logout: false });
    expect(logout.headers.getSetCookie()).toEqual([]);
    expect((await t.gql(REFRESH, { r: auth.refreshToken })).errors).toBeUndefined();
  });
});

test("in development the cookie is not Secure, so plain http://localhost works", async () => {
  const t = await startTestApp({ NODE_ENV: "development", REFRESH_TOKEN_COOKIE: "true", JWT_SECRET: "d".repeat(16) + "evelopment-secret-xyz" });
  try {
    const res = await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { refreshToken } }`, {
      input: { email: uniqueEmail(), password: STRONG_PASSWORD },
    });
    expect(refreshCookieOf(res.headers)?.attributes).toEqual({ "max-age": "2592000", path: "/graphql", httponly: true, samesite: "Strict" });
  } finally {
    await t.close();
  }
});

import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client";
import { AUTH_FIELDS, errorCode, register, startTestApp, STRONG_PASSWORD, type AuthPayload, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";
import { testWithPostgres } from "../helpers/with-postgres";

const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { ${AUTH_FIELDS} } }`;
const LOGOUT = `mutation($token: String!) { logout(refreshToken: $token) }`;
const ME = `{ me { id } }`;
const SESSIONS = `{ mySessions { id createdAt lastUsedAt userAgent ip current } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;

// An injected clock: tests move time forward instead of sleeping.
const clock = { now: Date.now() };
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ REFRESH_TOKEN_REUSE_INTERVAL: "10", REFRESH_TOKEN_TTL: "3600" }, { now: () => new Date(clock.now) });
});
afterAll(() => t.close());

const refresh = (token: string) => t.gql<{ refreshToken: AuthPayload }>(REFRESH, { token });
const me = (token: string) => t.gql(ME, {}, { token });
async function refreshed(token: string): Promise<AuthPayload> {
  const res = await refresh(token);
  if (!res.data?.refreshToken) throw new Error(JSON.stringify(res.errors));
  return res.data.refreshToken;
}

describe("refreshToken", () => {
  test("rotates: a new pair for the same session, and the new tokens work", async () => {
    const auth = await register(t);
    const next = await refreshed(auth.refreshToken);
    expect(next.refreshToken).not.toBe(auth.refreshToken);
    expect(next.user.id).toBe(auth.user.id);
    expect((await me(next.accessToken)).data?.me.id).toBe(auth.user.id);
    const third = await refreshed(next.refreshToken);
    expect(third.refreshToken).not.toBe(next.refreshToken);
    const sessions = await t.gql(SESSIONS, {}, { token: third.accessToken });
    expect(sessions.data?.mySessions).toHaveLength(1);
  });

  test("two tabs presenting the same token within the interval converge on one successor", async () => {
    const auth = await register(t);
    const first = await refreshed(auth.refreshToken);
    clock.now += 5_000;
    const second = await refreshed(auth.refreshToken);
    expect(second.refreshToken).toBe(first.refreshToken);
    expect((await me(second.accessToken)).data?.me.id).toBe(auth.user.id);
    expect((await refreshed(second.refreshToken)).user.id).toBe(auth.user.id);
  });

  test("the same token raced ten times at once yields one successor and keeps the session", async () => {
    const auth = await register(t);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(auth.refreshToken)));
    const successors = new Set(results.map((res) => res.data?.refreshToken.refreshToken));
    expect(results.map((res) => res.errors)).toEqual(Array(10).fill(undefined));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect((await refreshed(successor!)).user.id).toBe(auth.user.id);
  });

  test("the previous token after the interval is theft: the whole family ends", async () => {
    const auth = await register(t);
    const next = await refreshed(auth.refreshToken);
    clock.now += 11_000;
    expect(errorCode(await refresh(auth.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh(next.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me(next.accessToken))).toBe("UNAUTHENTICATED");
  });

  test("a token two rotations old is theft even within the interval", async () => {
    const auth = await register(t);
    const second = await refreshed(auth.refreshToken);
    const third = await refreshed(second.refreshToken);
    expect(errorCode(await refresh(auth.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh(third.refreshToken))).toBe("UNAUTHENTICATED");
  });

  test("theft in one session leaves the account's other sessions alone", async () => {
    const auth = await register(t);
    const other = await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD });
    await refreshed(auth.refreshToken);
    clock.now += 11_000;
    await refresh(auth.refreshToken);
    expect((await me(other.data?.login.accessToken)).data?.me.id).toBe(auth.user.id);
  });

  // Two transactions at once: only PostgreSQL (the embedded database runs one at a time).
  testWithPostgres("a refresh that waited for a session's end to commit finds it ended and hands out nothing", async () => {
    const auth = await register(t);
    const { db } = t.app.database;
    let racing: Promise<GraphQLResponse> | undefined;
    await db.transaction(async (tx) => {
      await tx.execute(sql`update sessions set ended_at = now(), end_reason = 'logout_all' where user_id = ${auth.user.id}::uuid`);
      racing = refresh(auth.refreshToken);
      // The refresh's statement now waits for this transaction's lock on the session. (Asked on
      // another connection: a transaction reads pg_stat_activity once and keeps what it read.)
      await waitFor(async () => {
        const [waiting] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`));
        expect(waiting?.n).toBeGreaterThan(0);
      }, 5_000);
    });
    expect(errorCode(await racing!)).toBe("UNAUTHENTICATED");
    const [tokens] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from refresh_tokens join sessions on sessions.id = refresh_tokens.session_id where sessions.user_id = ${auth.user.id}::uuid`));
    expect(tokens?.n).toBe(1);
  });

  test("an unknown token is UNAUTHENTICATED and ends nothing", async () => {
    const auth = await register(t);
    expect(errorCode(await refresh("definitely-not-a-refresh-token"))).toBe("UNAUTHENTICATED");
    expect((await me(auth.accessToken)).data?.me.id).toBe(auth.user.id);
  });

  test("a refresh token expires REFRESH_TOKEN_TTL after its last use", async () => {
    const auth = await register(t);
    clock.now += 3_000_000;
    const next = await refreshed(auth.refreshToken);
    clock.now += 3_000_000;
    const last = await refreshed(next.refreshToken);
    clock.now += 3_601_000;
    expect(errorCode(await refresh(last.refreshToken))).toBe("UNAUTHENTICATED");
  });

  test("with REFRESH_TOKEN_REUSE_INTERVAL=0 the previous token is never accepted again", async () => {
    const strict = await startTestApp({ REFRESH_TOKEN_REUSE_INTERVAL: "0" });
    try {
      const auth = await register(strict);
      const next = await strict.gql<{ refreshToken: AuthPayload }>(REFRESH, { token: auth.refreshToken });
      expect(errorCode(await strict.gql(REFRESH, { token: auth.refreshToken }))).toBe("UNAUTHENTICATED");
      expect(errorCode(await strict.gql(REFRESH, { token: next.data?.refreshToken.refreshToken }))).toBe("UNAUTHENTICATED");
    } finally {
      await strict.close();
    }
  });
});

describe("access tokens", () => {
  test("expire after ACCESS_TOKEN_TTL", async () => {
    const auth = await register(t);
    clock.now += 901_000;
    expect(errorCode(await me(auth.accessToken))).toBe("UNAUTHENTICATED");
    expect((await me((await refreshed(auth.refreshToken)).accessToken)).data?.me.id).toBe(auth.user.id);
  });

  test("concurrent requests, whose session checks share a query, each get their own account", async () => {
    const accounts = await Promise.all(Array.from({ length: 8 }, () => register(t)));
    const loggedOut = accounts[3]!;
    expect((await t.gql(LOGOUT, { token: loggedOut.refreshToken })).errors).toBeUndefined();
    const answers = await Promise.all(accounts.flatMap((auth) => [me(auth.accessToken), me(auth.accessToken)]));
    answers.forEach((answer, i) => {
      const auth = accounts[Math.floor(i / 2)]!;
      if (auth === loggedOut) expect(errorCode(answer)).toBe("UNAUTHENTICATED");
      else expect(answer.data?.me.id).toBe(auth.user.id);
    });
  });
});

describe("logout", () => {
  test("ends the session: its refresh and access tokens stop working at once", async () => {
    const auth = await register(t);
    expect((await t.gql(LOGOUT, { token: auth.refreshToken })).data).toEqual({ logout: true });
    expect(errorCode(await refresh(auth.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me(auth.accessToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(LOGOUT, { token: auth.refreshToken }))).toBe("UNAUTHENTICATED");
  });

  test("an unknown token is UNAUTHENTICATED, an empty one too", async () => {
    expect(errorCode(await t.gql(LOGOUT, { token: "nope" }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(LOGOUT, { token: "" }))).toBe("UNAUTHENTICATED");
  });

  test("the previous token within the reuse interval (a second tab) ends the session", async () => {
    const auth = await register(t);
    const next = await refreshed(auth.refreshToken);
    expect((await t.gql(LOGOUT, { token: auth.refreshToken })).data).toEqual({ logout: true });
    expect(errorCode(await refresh(next.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me(next.accessToken))).toBe("UNAUTHENTICATED");
  });

  test("any other retired token is a replay: the family ends, as it would on a refresh", async () => {
    // A thief rotated the stolen token; the owner's client signs out with the one it held.
    const auth = await register(t);
    const thiefs = await refreshed(auth.refreshToken);
    clock.now += 11_000;
    expect(errorCode(await t.gql(LOGOUT, { token: auth.refreshToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh(thiefs.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me(thiefs.accessToken))).toBe("UNAUTHENTICATED");
  });

  test("logoutAll ends every session of the caller and needs authentication", async () => {
    const auth = await register(t);
    const other = (await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD })).data?.login as AuthPayload;
    expect(errorCode(await t.gql(`mutation { logoutAll }`))).toBe("UNAUTHENTICATED");
    expect((await t.gql(`mutation { logoutAll }`, {}, { token: auth.accessToken })).data).toEqual({ logoutAll: true });
    for (const session of [auth, other]) {
      expect(errorCode(await me(session.accessToken))).toBe("UNAUTHENTICATED");
      expect(errorCode(await refresh(session.refreshToken))).toBe("UNAUTHENTICATED");
    }
  });
});

describe("mySessions and revokeSession", () => {
  test("lists live sessions with where they came from, marking the current one", async () => {
    const auth = await register(t);
    await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD }, { headers: { "user-agent": "Second Browser/1.0" } });
    const res = await t.gql(SESSIONS, {}, { token: auth.accessToken });
    const sessions = res.data?.mySessions as { current: boolean; userAgent: string; ip: string }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.map((s) => s.userAgent)).toContain("Second Browser/1.0");
    expect(sessions[0]?.ip).toMatch(/127\.0\.0\.1/);
    expect(errorCode(await t.gql(SESSIONS))).toBe("UNAUTHENTICATED");
  });

  test("revoking a session ends it for its holder at once", async () => {
    const auth = await register(t);
    const other = (await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD })).data?.login as AuthPayload;
    const list = (await t.gql(SESSIONS, {}, { token: auth.accessToken })).data?.mySessions as { id: string; current: boolean }[];
    const target = list.find((s) => !s.current)!;
    const res = await t.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: target.id }, { token: auth.accessToken });
    expect(res.data).toEqual({ revokeSession: true });
    expect(errorCode(await me(other.accessToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh(other.refreshToken))).toBe("UNAUTHENTICATED");
    expect((await me(auth.accessToken)).data?.me.id).toBe(auth.user.id);
    // Listed no more: only live sessions are.
    const after = (await t.gql(SESSIONS, {}, { token: auth.accessToken })).data?.mySessions as { id: string; current: boolean }[];
    expect(after.map((s) => s.id)).toEqual(list.filter((s) => s.current).map((s) => s.id));
  });

  test("another account's session is FORBIDDEN and stays alive; a malformed id is BAD_USER_INPUT", async () => {
    const alice = await register(t);
    const bob = await register(t);
    const bobs = (await t.gql(SESSIONS, {}, { token: bob.accessToken })).data?.mySessions as { id: string }[];
    const res = await t.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: bobs[0]!.id }, { token: alice.accessToken });
    expect(errorCode(res)).toBe("FORBIDDEN");
    expect((await me(bob.accessToken)).data?.me.id).toBe(bob.user.id);
    const malformed = await t.gql(`mutation { revokeSession(id: "1; drop table sessions") }`, {}, { token: alice.accessToken });
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "id" });
  });
});

describe("changePassword", () => {
  const CHANGE = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;

  test("sets the new password, ends the other sessions and retires every earlier access token", async () => {
    const auth = await register(t);
    const other = (await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD })).data?.login as AuthPayload;
    const res = await t.gql(CHANGE, { current: STRONG_PASSWORD, next: "new-lantern-meadow-7" }, { token: auth.accessToken });
    expect(res.data).toEqual({ changePassword: true });

    expect(errorCode(await me(auth.accessToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await me(other.accessToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh(other.refreshToken))).toBe("UNAUTHENTICATED");
    // The caller's own session survives: a refresh gives it a token that works.
    const renewed = await refreshed(auth.refreshToken);
    expect((await me(renewed.accessToken)).data?.me.id).toBe(auth.user.id);

    expect(errorCode(await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD }))).toBe("UNAUTHENTICATED");
    expect((await t.gql(LOGIN, { email: auth.user.email, password: "new-lantern-meadow-7" })).data?.login.user.id).toBe(auth.user.id);
  });

  test("a wrong current password or a weak new one changes nothing", async () => {
    const auth = await register(t);
    const wrong = await t.gql(CHANGE, { current: "not-my-password", next: "new-lantern-meadow-7" }, { token: auth.accessToken });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "currentPassword" });
    const weak = await t.gql(CHANGE, { current: STRONG_PASSWORD, next: "12345678" }, { token: auth.accessToken });
    expect(weak.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "newPassword" });
    expect((await me(auth.accessToken)).data?.me.id).toBe(auth.user.id);
    expect((await t.gql(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD })).data?.login.user.id).toBe(auth.user.id);
  });

  test("needs authentication", async () => {
    expect(errorCode(await t.gql(CHANGE, { current: STRONG_PASSWORD, next: "new-lantern-meadow-7" }))).toBe("UNAUTHENTICATED");
  });

  test("a change whose session is revoked, or whose account changes, while its hashes run is refused", async () => {
    const owner = await register(t);
    const intruder = (await t.gql(LOGIN, { email: owner.user.email, password: STRONG_PASSWORD })).data?.login as AuthPayload;
    const client = { ip: null, userAgent: null, requestId: null };
    // The intruder's request as it stands after its checks, before its write.
    const inFlight = await t.app.services.accounts.authenticate(intruder.accessToken);
    const change = (viewer: typeof inFlight, next: string) => t.app.services.accounts.changePassword(viewer, STRONG_PASSWORD, next, client);

    const revoked = await t.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: inFlight.sessionId }, { token: owner.accessToken });
    expect(revoked.data).toEqual({ revokeSession: true });
    await expect(change(inFlight, "intruder-keeps-it-4")).rejects.toMatchObject({ code: "UNAUTHENTICATED" });

    // Of two changes decided on the same account as it was, the first one to write stands.
    const first = await t.app.services.accounts.authenticate(owner.accessToken);
    const second = { ...first };
    await expect(change(first, "owner-first-change-5")).resolves.toBe(true);
    await expect(change(second, "owner-second-change-6")).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    expect((await t.gql(LOGIN, { email: owner.user.email, password: "owner-first-change-5" })).data?.login.user.id).toBe(owner.user.id);
  });
});

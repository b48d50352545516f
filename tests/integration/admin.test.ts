import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import jwt from "jsonwebtoken";
import postgres from "postgres";
import { createTestDatabase } from "../helpers/databases";
import { captureLogs } from "../helpers/log-capture";
import { planOf, type SentQuery } from "../helpers/query-plans";
import { AUTH_FIELDS, errorCode, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { startStuckApp, testWithPostgres } from "../helpers/with-postgres";

const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const USERS = `query($first: Int, $after: String, $search: String) {
  users(first: $first, after: $after, search: $search) { totalCount edges { cursor node { id email role active } } pageInfo { hasNextPage endCursor } }
}`;

let t: TestApp;
let admin: AuthPayload;
const logs = captureLogs("warn");
const queries: SentQuery[] = [];
beforeAll(async () => {
  t = await startTestApp({}, { logger: logs.logger, onQuery: (text, parameters) => queries.push({ text, parameters }) });
  const email = uniqueEmail("admin");
  await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  admin = (await t.gql(LOGIN, { email, password: STRONG_PASSWORD })).data?.login;
});
afterAll(() => t.close());

const asAdmin = (query: string, variables?: Record<string, unknown>) => t.gql(query, variables, { token: admin.accessToken });

describe("users", () => {
  test("pages newest first with cursors and a total count", async () => {
    const tag = `page${Date.now()}`;
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await register(t, { email: uniqueEmail(`${tag}-${i}`) })).user.id);
    const first = await asAdmin(USERS, { first: 2, search: tag });
    expect(first.data?.users.totalCount).toBe(5);
    expect(first.data?.users.edges.map((e: any) => e.node.id)).toEqual([created[4], created[3]]);
    expect(first.data?.users.pageInfo.hasNextPage).toBe(true);
    const second = await asAdmin(USERS, { first: 2, search: tag, after: first.data?.users.pageInfo.endCursor });
    expect(second.data?.users.edges.map((e: any) => e.node.id)).toEqual([created[2], created[1]]);
    const last = await asAdmin(USERS, { first: 2, search: tag, after: second.data?.users.pageInfo.endCursor });
    expect(last.data?.users.edges.map((e: any) => e.node.id)).toEqual([created[0]]);
    expect(last.data?.users.pageInfo).toEqual({ hasNextPage: false, endCursor: last.data?.users.edges[0].cursor });
    // A last page that is full: nothing after it either.
    const full = await asAdmin(USERS, { first: 1, search: tag, after: second.data?.users.pageInfo.endCursor });
    expect(full.data?.users.pageInfo).toEqual({ hasNextPage: false, endCursor: full.data?.users.edges[0].cursor });
  });

  test("search matches literally, so % and _ are no wildcards", async () => {
    const res = await asAdmin(USERS, { search: "%" });
    expect(res.data?.users.totalCount).toBe(0);
  });

  test("search finds a name or an address, whatever its case, and ignores the spaces around the term", async () => {
    const tag = `Quill${Date.now()}`;
    const named = await register(t, { name: `Ada ${tag} Lovelace` });
    const addressed = await register(t, { email: uniqueEmail(tag.toLowerCase()) });
    for (const search of [tag, tag.toUpperCase(), `  ${tag.toLowerCase()} `]) {
      const res = await asAdmin(USERS, { search });
      expect({ search, ids: res.data?.users.edges.map((e: any) => e.node.id).sort() }).toEqual({ search, ids: [named.user.id, addressed.user.id].sort() });
    }
  });

  test("a search, its page and its count, reads the trigram indexes of addresses and names rather than every row", async () => {
    queries.length = 0;
    const res = await asAdmin(USERS, { first: 2, search: "Lovelace" });
    expect(res.errors).toBeUndefined();
    const sent = queries.filter((q) => /from "users"/.test(q.text) && /ilike/.test(q.text));
    expect(sent).toHaveLength(2);
    // The page reads what a User shows, never a password hash.
    expect(sent.map((query) => /password_hash|token_version/.test(query.text))).toEqual([false, false]);
    for (const query of sent) {
      // The test's table is small enough to read whole, so that is priced out: without these
      // indexes a plan still has to, through the newest-first index if not in a scan of the table.
      const plan = await planOf(t.app.database.db, query, ["enable_seqscan", "enable_indexscan"]);
      expect(plan).toMatch(/"Node Type":\s*"BitmapOr"/);
      expect(plan).toContain("users_email_trgm_idx");
      expect(plan).toContain("users_name_trgm_idx");
    }
  });

  test("pages through rows written with microseconds (by hand, an import) without skipping any", async () => {
    const tag = `micro${Date.now()}`;
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await register(t, { email: uniqueEmail(`${tag}-${i}`) })).user.id);
    await t.app.database.db.execute(sql`update users set created_at = '2025-01-01T00:00:00.123456Z' where email like ${`${tag}%`}`);
    await t.app.database.db.execute(sql`update users set created_at = '2025-01-01T00:00:00.123999Z' where id = ${created[0]}`);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 7; page++) {
      const res = await asAdmin(USERS, { first: 2, search: tag, after });
      const users = res.data?.users as { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      seen.push(...users.edges.map((edge) => edge.node.id));
      if (!users.pageInfo.hasNextPage) break;
      after = users.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual([...created].sort());
  });

  test("a page is read from the newest-first index, from the cursor on, and counted only when totalCount is asked for", async () => {
    for (let i = 0; i < 3; i++) await register(t);
    const pageQueries = async (query: string, variables: Record<string, unknown>) => {
      queries.length = 0;
      const res = await asAdmin(query, variables);
      expect(res.errors).toBeUndefined();
      return { res, sent: queries.filter((q) => /from "users"/.test(q.text) && !/"users"\."id" = any/.test(q.text)) };
    };
    const first = await pageQueries(`query { users(first: 2) { pageInfo { endCursor } } }`, {});
    expect(first.sent).toHaveLength(1);
    const next = await pageQueries(`query($after: String) { users(first: 2, after: $after) { edges { node { id } } } }`, { after: first.res.data?.users.pageInfo.endCursor });
    expect(next.sent).toHaveLength(1);
    expect((await pageQueries(`query { users(first: 2) { totalCount } }`, {})).sent).toHaveLength(2);

    // An order no index gives would still be sorted, with sorting priced out.
    for (const { text, parameters } of [...first.sent, ...next.sent]) {
      const plan = await planOf(t.app.database.db, { text, parameters }, ["enable_sort"]);
      expect(plan).not.toMatch(/"Node Type":\s*"(Incremental )?Sort"/);
      expect(plan).toContain("users_created_at_id_idx");
      // The cursor is where the index scan starts, not a filter over the rows before it.
      if (parameters.length > 1) expect(plan).toMatch(/"Index Cond":\s*"\(ROW\(created_at, id\) </);
    }
  });

  test("bad paging input is BAD_USER_INPUT naming the argument", async () => {
    expect((await asAdmin(USERS, { first: 0 })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    expect((await asAdmin(USERS, { first: 101 })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    expect((await asAdmin(USERS, { after: "garbage" })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    // Read as no cursor, an empty one would start again from the first page: a client passing
    // `endCursor ?? ""` after the last page would loop for ever.
    expect((await asAdmin(USERS, { after: "" })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    // A date JavaScript reads and PostgreSQL does not.
    const farFuture = Buffer.from(JSON.stringify(["+100000-01-01T00:00:00.000Z", "00000000-0000-4000-8000-000000000000"])).toString("base64url");
    expect((await asAdmin(USERS, { after: farFuture })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    for (const lastDay of ["9999-12-31T24:00:00Z", "9999-12-31T23:30:00-00:30"]) {
      const pastYear9999 = Buffer.from(JSON.stringify([lastDay, "00000000-0000-4000-8000-000000000000"])).toString("base64url");
      expect((await asAdmin(USERS, { after: pastYear9999 })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    }
    const yearZero = Buffer.from(JSON.stringify(["0000-01-01T00:00:00.000Z", "00000000-0000-4000-8000-000000000000"])).toString("base64url");
    expect((await asAdmin(USERS, { after: yearZero })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    // A cursor with anything appended is not that cursor, though Node's base64 decoder would skip it.
    const cursor = (await asAdmin(USERS, { first: 1 })).data?.users.pageInfo.endCursor as string;
    expect((await asAdmin(USERS, { first: 1, after: cursor })).errors).toBeUndefined();
    for (const tampered of [`${cursor}!!`, `${cursor}=AAAA`, ` ${cursor}`]) {
      expect((await asAdmin(USERS, { after: tampered })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    }
    expect((await asAdmin(USERS, { search: "ada\u0000" })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "search" });
    expect((await asAdmin(USERS, { search: "ada\uD800" })).errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "search" });
  });

  test("user(id) finds one account, or null", async () => {
    const someone = await register(t);
    const res = await asAdmin(`query($id: ID!) { user(id: $id) { id email } }`, { id: someone.user.id });
    expect(res.data?.user).toEqual({ id: someone.user.id, email: someone.user.email });
    const missing = await asAdmin(`query($id: ID!) { user(id: $id) { id } }`, { id: "00000000-0000-4000-8000-000000000000" });
    expect(missing.data?.user).toBeNull();
  });

  test("everything here is FORBIDDEN to a USER and UNAUTHENTICATED to nobody", async () => {
    const user = await register(t);
    const other = await register(t);
    const adminOnly = [USERS, `query { user(id: "${user.user.id}") { id } }`, `mutation { setUserRole(id: "${user.user.id}", role: ADMIN) { id } }`, `mutation { deleteUser(id: "${other.user.id}") }`];
    for (const query of adminOnly) {
      expect(errorCode(await t.gql(query, {}, { token: user.accessToken }))).toBe("FORBIDDEN");
      expect(errorCode(await t.gql(query))).toBe("UNAUTHENTICATED");
    }
    const me = await t.gql(`{ me { role } }`, {}, { token: user.accessToken });
    expect(me.data?.me.role).toBe("USER");
  });
});

describe("setUserActive and setUserRole", () => {
  const SET_ACTIVE = `mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { id active } }`;

  test("deactivating ends the account's sessions, stops its access tokens and its logins", async () => {
    const victim = await register(t);
    const res = await asAdmin(SET_ACTIVE, { id: victim.user.id, active: false });
    expect(res.data?.setUserActive).toEqual({ id: victim.user.id, active: false });
    expect(errorCode(await t.gql(`{ me { id } }`, {}, { token: victim.accessToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(`mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, { t: victim.refreshToken }))).toBe("UNAUTHENTICATED");
    const login = await t.gql(LOGIN, { email: victim.user.email, password: STRONG_PASSWORD });
    expect(login.errors?.[0]?.message).toBe("Invalid email or password");

    await asAdmin(SET_ACTIVE, { id: victim.user.id, active: true });
    expect((await t.gql(LOGIN, { email: victim.user.email, password: STRONG_PASSWORD })).data?.login.user.id).toBe(victim.user.id);
    // Ended, not paused: a reactivation does not bring the old session back.
    expect(errorCode(await t.gql(`mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, { t: victim.refreshToken }))).toBe("UNAUTHENTICATED");
  });

  test("an account made inactive without setUserActive (by hand in SQL, say) is refused at once", async () => {
    const victim = await register(t);
    // Neither its sessions nor its token version change: only the flag stops it.
    await t.app.database.db.execute(sql`update users set active = false where id = ${victim.user.id}::uuid`);
    expect(errorCode(await t.gql(`{ me { id } }`, {}, { token: victim.accessToken }))).toBe("UNAUTHENTICATED");
  });

  test("deactivating an account already inactive ends the sessions it still has", async () => {
    const victim = await register(t);
    await asAdmin(SET_ACTIVE, { id: victim.user.id, active: false });
    // A session left live on the inactive account (by hand in SQL, say): it would come back with a reactivation.
    await t.app.database.db.execute(sql`update sessions set ended_at = null, end_reason = null where user_id = ${victim.user.id}::uuid`);
    expect((await asAdmin(SET_ACTIVE, { id: victim.user.id, active: false })).data?.setUserActive).toEqual({ id: victim.user.id, active: false });
    await asAdmin(SET_ACTIVE, { id: victim.user.id, active: true });
    expect(errorCode(await t.gql(`mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, { t: victim.refreshToken }))).toBe("UNAUTHENTICATED");
  });

  test("a promoted user can administer once refreshed; an admin cannot deactivate or demote themselves", async () => {
    const user = await register(t);
    const res = await asAdmin(`mutation($id: ID!) { setUserRole(id: $id, role: ADMIN) { id role } }`, { id: user.user.id });
    expect(res.data?.setUserRole).toEqual({ id: user.user.id, role: "ADMIN" });
    // Its access tokens carried the old role: retired, as after a password change. The session stays.
    expect(errorCode(await t.gql(`{ me { id } }`, {}, { token: user.accessToken }))).toBe("UNAUTHENTICATED");
    const refreshed = await t.gql(`mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, { t: user.refreshToken });
    const accessToken = refreshed.data?.refreshToken.accessToken as string;
    expect(jwt.decode(accessToken)).toMatchObject({ role: "ADMIN" });
    expect((await t.gql(USERS, { first: 1 }, { token: accessToken })).data?.users.totalCount).toBeGreaterThan(0);
    // Setting the role it has changes nothing: its tokens stay good.
    await asAdmin(`mutation($id: ID!) { setUserRole(id: $id, role: ADMIN) { id } }`, { id: user.user.id });
    expect((await t.gql(`{ me { id } }`, {}, { token: accessToken })).data?.me.id).toBe(user.user.id);
    expect(errorCode(await asAdmin(SET_ACTIVE, { id: admin.user.id, active: false }))).toBe("FORBIDDEN");
    expect(errorCode(await asAdmin(`mutation($id: ID!) { setUserRole(id: $id, role: USER) { id } }`, { id: admin.user.id }))).toBe("FORBIDDEN");
  });

  test("the audit log has each change an admin made, a reactivation too, and no change that was already so", async () => {
    const user = await register(t);
    const id = user.user.id;
    const events = () => logs.records().filter((record) => record.userId === id && record.adminId === admin.user.id).map((record) => [record.event, record.role]);
    const updatedAt = async () => (await t.app.services.users.findById(id))!.updatedAt.getTime();
    const changes: [number, number][] = [];
    const timed = async (call: () => Promise<unknown>) => {
      const before = await updatedAt();
      await call();
      changes.push([before, await updatedAt()]);
    };
    for (const active of [false, false, true, true]) await timed(async () => expect((await asAdmin(SET_ACTIVE, { id, active })).errors).toBeUndefined());
    for (const role of ["USER", "ADMIN", "ADMIN", "USER"]) {
      await timed(async () => expect((await asAdmin(`mutation($id: ID!, $role: Role!) { setUserRole(id: $id, role: $role) { id } }`, { id, role })).errors).toBeUndefined());
    }
    // Nor does a change that was already so move the account's updated_at.
    expect(changes.map(([before, after]) => after !== before)).toEqual([true, false, true, false, false, true, false, true]);
    expect(events()).toEqual([
      ["account_deactivated", undefined],
      ["account_reactivated", undefined],
      ["role_changed", "ADMIN"],
      ["role_changed", "USER"],
    ]);
  });

  test("an unknown or malformed id is BAD_USER_INPUT", async () => {
    expect(errorCode(await asAdmin(SET_ACTIVE, { id: "00000000-0000-4000-8000-000000000000", active: false }))).toBe("BAD_USER_INPUT");
    expect(errorCode(await asAdmin(SET_ACTIVE, { id: "nope", active: false }))).toBe("BAD_USER_INPUT");
  });
});

describe("deleteUser", () => {
  const DELETE_USER = `mutation($id: ID!) { deleteUser(id: $id) }`;

  test("deletes a USER with every session of it: its tokens stop at once, and the audit log names the admin", async () => {
    const victim = await register(t);
    expect((await asAdmin(DELETE_USER, { id: victim.user.id })).data).toEqual({ deleteUser: true });
    expect(errorCode(await t.gql(`{ me { id } }`, {}, { token: victim.accessToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(`mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, { t: victim.refreshToken }))).toBe("UNAUTHENTICATED");
    expect((await asAdmin(`query($id: ID!) { user(id: $id) { id } }`, { id: victim.user.id })).data).toEqual({ user: null });
    expect(logs.records().filter((record) => record.event === "account_deleted" && record.userId === victim.user.id)).toEqual([
      expect.objectContaining({ adminId: admin.user.id, requestId: expect.any(String) }),
    ]);
    // Gone, not found: a second deletion names the id.
    expect(errorCode(await asAdmin(DELETE_USER, { id: victim.user.id }))).toBe("BAD_USER_INPUT");
  });

  test("an ADMIN account is refused, the admin's own too: an admin always remains", async () => {
    const rival = await rivalAdmin();
    expect((await asAdmin(DELETE_USER, { id: rival.id })).errors?.[0]).toMatchObject({ extensions: { code: "FORBIDDEN" }, message: expect.stringMatching(/make it a USER first/) });
    expect(errorCode(await asAdmin(DELETE_USER, { id: admin.user.id }))).toBe("FORBIDDEN");
    expect(await t.app.services.users.findById(rival.id)).toMatchObject({ role: "ADMIN" });
    expect(await t.app.services.users.findById(admin.user.id)).toMatchObject({ role: "ADMIN" });
  });

  test("an unknown or malformed id is BAD_USER_INPUT", async () => {
    expect(errorCode(await asAdmin(DELETE_USER, { id: "00000000-0000-4000-8000-000000000000" }))).toBe("BAD_USER_INPUT");
    expect(errorCode(await asAdmin(DELETE_USER, { id: "nope" }))).toBe("BAD_USER_INPUT");
  });

  // The embedded database has one connection, so it cannot hold a row locked beside the deletion.
  testWithPostgres.each([
    ["the admin demoted", "UNAUTHENTICATED", (rival: { id: string }) => `update users set role = 'USER', token_version = token_version + 1 where id = '${rival.id}'`],
    ["the account promoted", "FORBIDDEN", (_rival: { id: string }, victim: { id: string }) => `update users set role = 'ADMIN', token_version = token_version + 1 where id = '${victim.id}'`],
  ])("%s while the deletion waits for the rows: that change stands, and the account stays (%s)", async (_change, code, change) => {
    const rival = await rivalAdmin();
    const victim = (await register(t)).user;
    const sql = postgres(t.app.config.database.url!, { max: 1 });
    try {
      let answer: Promise<GraphQLResponse> | undefined;
      await sql.begin(async (tx) => {
        await tx`select id from users where id in (${rival.id}, ${victim.id}) for update`;
        answer = t.gql(DELETE_USER, { id: victim.id }, { token: rival.accessToken });
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.unsafe(change(rival, victim));
      });
      expect(errorCode(await answer!)).toBe(code);
      expect(await t.app.services.users.findById(victim.id)).toMatchObject({ id: victim.id });
    } finally {
      await sql.end();
    }
  });
});

test.each([
  ["demote", `mutation($id: ID!) { change: setUserRole(id: $id, role: USER) { id } }`],
  ["deactivate", `mutation($id: ID!) { change: setUserActive(id: $id, active: false) { id } }`],
])("two admins who %s each other at once: one change lands, the other is refused, and an admin remains", async (_kind, change) => {
  const [a, b] = await Promise.all([rivalAdmin(), rivalAdmin()]);
  const answers = await Promise.all([t.gql(change, { id: b.id }, { token: a.accessToken }), t.gql(change, { id: a.id }, { token: b.accessToken })]);
  expect(answers.map((answer) => (answer.data?.change ? "changed" : errorCode(answer))).sort()).toEqual(["UNAUTHENTICATED", "changed"]);
  await expectOneAdminOf(a, b);
});

// The embedded database has one connection, so it cannot hold the rows locked beside the changes.
testWithPostgres("two admins demoting each other while both rows are locked elsewhere do not deadlock once the lock goes", async () => {
  const [a, b] = await Promise.all([rivalAdmin(), rivalAdmin()]);
  const demote = (admin: { accessToken: string }, other: { id: string }) =>
    t.gql(`mutation($id: ID!) { change: setUserRole(id: $id, role: USER) { id } }`, { id: other.id }, { token: admin.accessToken });
  const sql = postgres(t.app.config.database.url!, { max: 1 });
  try {
    // Both changes wait on the held rows, then run at once: were each to lock only its admin's
    // row first, each would then wait on the other's and PostgreSQL would end one (40P01).
    let answers: ReturnType<typeof demote>[] = [];
    await sql.begin(async (tx) => {
      await tx`select id from users where id in (${a.id}, ${b.id}) for update`;
      answers = [demote(a, b), demote(b, a)];
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect((await Promise.all(answers)).map((answer) => (answer.data?.change ? "changed" : errorCode(answer))).sort()).toEqual(["UNAUTHENTICATED", "changed"]);
    await expectOneAdminOf(a, b);
  } finally {
    await sql.end();
  }
});

testWithPostgres("a deactivation that fails part-way changes nothing: the account stays active and its sessions with it", async () => {
  const { app: stuck, logs, sql, close } = await startStuckApp();
  try {
    const email = uniqueEmail("admin");
    await stuck.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
    const { accessToken } = (await stuck.gql(LOGIN, { email, password: STRONG_PASSWORD })).data?.login as AuthPayload;
    const user = await register(stuck);
    await sql.begin(async (tx) => {
      // The user's session is held (a refresh of it under way, say): ending it waits until the statement times out.
      await tx`select 1 from sessions where user_id = ${user.user.id} for update`;
      const res = await stuck.gql(`mutation($id: ID!) { setUserActive(id: $id, active: false) { active } }`, { id: user.user.id }, { token: accessToken });
      expect(errorCode(res)).toBe("INTERNAL_SERVER_ERROR");
      // Failed where the test made it fail: the statement that ends the sessions, timed out.
      expect(logs.text()).toContain("canceling statement due to statement timeout");
    });
    // Were the account deactivated with its session live, a reactivation would bring that session back.
    expect(await stuck.app.services.users.findById(user.user.id)).toMatchObject({ active: true });
    const refreshed = await stuck.gql(`mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }`, { t: user.refreshToken });
    expect(refreshed.data?.refreshToken.accessToken).toEqual(expect.any(String));
  } finally {
    await close();
  }
}, 20_000);

async function rivalAdmin() {
  const email = uniqueEmail("rival");
  const { user } = await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  const { accessToken } = (await t.gql(LOGIN, { email, password: STRONG_PASSWORD })).data?.login as AuthPayload;
  return { id: user.id, accessToken };
}

async function expectOneAdminOf(...admins: { id: string }[]) {
  const after = await Promise.all(admins.map(({ id }) => t.app.services.users.findById(id)));
  expect(after.filter((user) => user?.role === "ADMIN" && user.active)).toHaveLength(1);
}

test("an account an admin deactivated is not made an admin: it stays deactivated", async () => {
  const user = await register(t);
  await t.app.services.users.markEmailVerified(user.user.id);
  expect((await asAdmin(`mutation($id: ID!) { setUserActive(id: $id, active: false) { active } }`, { id: user.user.id })).data?.setUserActive.active).toBe(false);
  await expect(t.app.services.userAdmin.provisionAdmin(user.user.email, STRONG_PASSWORD)).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/deactivated/) });
  expect(await t.app.services.users.findById(user.user.id)).toMatchObject({ role: "USER", active: false });
});

test("provisioning an admin again leaves the account as it is, a deactivation included", async () => {
  const email = uniqueEmail("ops");
  const { userAdmin } = t.app.services;
  const made = await userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  expect(made.outcome).toBe("created");
  const deactivated = await asAdmin(`mutation($id: ID!) { setUserActive(id: $id, active: false) { active } }`, { id: made.user.id });
  expect(deactivated.data?.setUserActive.active).toBe(false);
  const again = await userAdmin.provisionAdmin(email, "another-password-2");
  expect(again).toMatchObject({ outcome: "already-admin", user: { id: made.user.id, active: false } });
  expect(errorCode(await t.gql(LOGIN, { email, password: STRONG_PASSWORD }))).toBe("UNAUTHENTICATED");
});

describe("field visibility", () => {
  test("private fields are FORBIDDEN to other users while id and name resolve", async () => {
    const alice = await register(t, { name: "Alice" });
    const bob = await register(t);
    const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name email } } }`;
    const res = await t.gql(query, { reps: [{ __typename: "User", id: alice.user.id }] }, { token: bob.accessToken });
    expect(res.data?._entities[0]).toBeNull();
    const partial = await t.gql(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name } } }`, { reps: [{ __typename: "User", id: alice.user.id }] }, { token: bob.accessToken });
    expect(partial.data?._entities[0]).toEqual({ id: alice.user.id, name: "Alice" });
    expect(res.errors?.[0]?.extensions.code).toBe("FORBIDDEN");
    const asAdminRes = await asAdmin(query, { reps: [{ __typename: "User", id: alice.user.id }] });
    expect(asAdminRes.data?._entities[0]).toEqual({ id: alice.user.id, name: "Alice", email: alice.user.email });
  });

  // The three private fields, each checked on its own (a field left unguarded would pass a test of another).
  test.each(["email", "role", "emailVerified"])("%s is FORBIDDEN to another user, and resolves for its owner and for an admin", async (field) => {
    const alice = await register(t);
    const bob = await register(t);
    const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id ${field} } } }`;
    const reps = [{ __typename: "User", id: alice.user.id }];
    const asBob = await t.gql(query, { reps }, { token: bob.accessToken });
    expect(asBob.errors?.map((error) => [error.path?.at(-1), error.extensions.code])).toEqual([[field, "FORBIDDEN"]]);
    expect(asBob.data?._entities[0]).toBeNull();
    const expected = { id: alice.user.id, [field]: alice.user[field as keyof typeof alice.user] };
    expect((await t.gql(query, { reps }, { token: alice.accessToken })).data?._entities[0]).toEqual(expected);
    expect((await asAdmin(query, { reps })).data?._entities[0]).toEqual(expected);
  });
});

test("npm run create-admin creates, then promotes, an admin in the configured database", async () => {
  const database = await createTestDatabase({ shared: true });
  const root = path.join(__dirname, "../..");
  const env = { ...process.env, DATABASE_URL: database.url ?? "", DATA_DIR: database.dataDir, LOG_LEVEL: "silent" };
  // The compiled CLI (built by tests/helpers/global-setup.ts), as npm run create-admin and the container run it.
  const run = (args: string[]) => promisify(execFile)(process.execPath, ["dist/cli/create-admin.js", ...args], { cwd: root, env });
  try {
    const email = uniqueEmail("ops");
    expect((await run(["--email", email, "--password", STRONG_PASSWORD])).stdout).toMatch(/^created admin/);
    // Run again (a provisioning script does), the admin it made is left as it is, not refused as unverified.
    expect((await run(["--email", email, "--password", "ignored-password-1"])).stdout).toMatch(/is already an admin/);
    const app = await startTestApp({}, { database });
    try {
      const existing = await register(app);
      await app.app.services.users.markEmailVerified(existing.user.id);
      const unverified = await register(app);
      // Closed first: the embedded database is one process's at a time.
      await app.close();
      expect((await run(["--email", existing.user.email, "--password", "ignored-password-1"])).stdout).toMatch(/^promoted/);
      // Anyone could have registered an address nobody verified, with a password of their own.
      await expect(run(["--email", unverified.user.email, "--password", "ignored-password-1"])).rejects.toMatchObject({
        stderr: expect.stringMatching(/not verified/),
      });
      await expect(run(["--email", uniqueEmail(), "--password", "short"])).rejects.toMatchObject({ stderr: expect.stringMatching(/at least 8/) });
      // A mistyped command line gets the usage line: no stack, and no word of the password.
      for (const args of [["--email", uniqueEmail(), "--password", "my", "secret", "phrase"], ["--email"], ["--email", uniqueEmail(), "--pasword", "x"]]) {
        await expect(run(args)).rejects.toMatchObject({ stderr: "usage: npm run create-admin -- --email E --password P\n" });
      }
    } finally {
      await app.close().catch(() => {});
    }
    const again = await startTestApp({}, { database });
    try {
      const login = await again.gql(LOGIN, { email, password: STRONG_PASSWORD });
      expect(login.data?.login.user.role).toBe("ADMIN");
    } finally {
      await again.close();
    }
  } finally {
    await database.drop();
  }
}, 120_000);

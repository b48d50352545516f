import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import jwt from "jsonwebtoken";
import postgres from "postgres";
import { users } from "../../src/db/schema";
import { createTestDatabase } from "../helpers/databases";
import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { AUTH_FIELDS, during, errorCode, register, SERVICE_ARGON2, startTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";
import { startStuckApp, testWithPostgres } from "../helpers/with-postgres";

/** An argon2id hash string of these costs (its parameters in either order: argon2 0.44 writes t before p, 0.45 after). */
const argon2id = (memoryKib: number, timeCost: number, parallelism: number) =>
  new RegExp(`^\\$argon2id\\$v=19\\$m=${memoryKib},(t=${timeCost},p=${parallelism}|p=${parallelism},t=${timeCost})\\$`);

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;
const NEW_PASSWORD = "quince-lantern-harbor-7";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("register", () => {
  test("creates the account, stores the address trimmed and lower-cased, and signs it in", async () => {
    const email = uniqueEmail("Mixed.Case");
    const auth = await register(t, { email: `  ${email.toUpperCase()} `, name: "  Ada Lovelace " });
    expect(auth).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    expect(auth.user).toMatchObject({ email: email.toLowerCase(), name: "Ada Lovelace", role: "USER", emailVerified: false, active: true });
    expect(new Date(auth.user.createdAt).toISOString()).toBe(auth.user.createdAt);
    const me = await t.gql(`{ me { id email } }`, {}, { token: auth.accessToken });
    expect(me.data?.me).toEqual({ id: auth.user.id, email: email.toLowerCase() });
  });

  test("an address that differs only in case is EMAIL_TAKEN", async () => {
    const email = uniqueEmail();
    await register(t, { email });
    const res = await t.gql(REGISTER, { input: { email: email.toUpperCase(), password: STRONG_PASSWORD } });
    expect(errorCode(res)).toBe("EMAIL_TAKEN");
    expect(res.data).toBeNull();
  });

  // The same letters, typed precomposed ("é") or with a combining accent ("e" + U+0301).
  test("an address that differs only in its Unicode form is EMAIL_TAKEN, and signs in to the one account", async () => {
    const email = uniqueEmail("café");
    const first = await register(t, { email: email.normalize("NFD") });
    expect(first.user.email).toBe(email.normalize("NFC"));
    const res = await t.gql(REGISTER, { input: { email, password: STRONG_PASSWORD } });
    expect(errorCode(res)).toBe("EMAIL_TAKEN");
    const login = await t.gql(LOGIN, { input: { email: email.normalize("NFD"), password: STRONG_PASSWORD } });
    expect(login.data?.login.user.id).toBe(first.user.id);
  });

  test.each([
    ["email", { email: "not-an-email", password: STRONG_PASSWORD }],
    ["email", { email: `${"a".repeat(250)}@example.com`, password: STRONG_PASSWORD }],
    ["password", { email: uniqueEmail(), password: "short" }],
    ["password", { email: uniqueEmail(), password: "password123" }],
    ["password", { email: uniqueEmail(), password: "x".repeat(129) }],
    ["name", { email: uniqueEmail(), password: STRONG_PASSWORD, name: "n".repeat(101) }],
    // PostgreSQL refuses a NUL: it must be a clean refusal, not an internal error.
    ["email", { email: "ada\u0000@example.com", password: STRONG_PASSWORD }],
    ["name", { email: uniqueEmail(), password: STRONG_PASSWORD, name: "Ada\u0000" }],
    // Shown reordered or not at all in an admin's list of users.
    ["name", { email: uniqueEmail(), password: STRONG_PASSWORD, name: "\u202Eevil" }],
    ["name", { email: uniqueEmail(), password: STRONG_PASSWORD, name: "\u200B" }],
    ["name", { email: uniqueEmail(), password: STRONG_PASSWORD, name: "\u2060\u200D" }],
    // Half a surrogate pair would be kept as U+FFFD: not the name given.
    ["name", { email: uniqueEmail(), password: STRONG_PASSWORD, name: "Ada\uD800" }],
  ])("invalid %s is BAD_USER_INPUT naming the field", async (field, input) => {
    const res = await t.gql(REGISTER, { input });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
  });

  test("a name is counted in characters, and may join them as its script needs", async () => {
    const emoji = "\u{1F600}".repeat(100);
    const persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645";
    for (const name of [emoji, persian]) expect((await register(t, { name })).user.name).toBe(name);
    const res = await t.gql(REGISTER, { input: { email: uniqueEmail(), password: STRONG_PASSWORD, name: `${emoji}\u{1F600}` } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
  });

  test("a refused registration leaves no account behind", async () => {
    const email = uniqueEmail();
    await t.gql(REGISTER, { input: { email, password: "qwerty123" } });
    expect(await t.app.services.users.findByEmail(email)).toBeNull();
  });

  test("stores an argon2id hash with the configured cost, never the password", async () => {
    const auth = await register(t);
    const row = await t.app.services.users.findById(auth.user.id);
    // testEnv's cost (the service's defaults are asserted where a hash is upgraded to them, below).
    expect(row?.passwordHash).toMatch(argon2id(1024, 1, 1));
    expect(row?.passwordHash).not.toContain(STRONG_PASSWORD);
  });
});

describe("login", () => {
  test("signs in with the right password, whatever the address's case", async () => {
    const email = uniqueEmail();
    const { user } = await register(t, { email });
    const res = await t.gql(LOGIN, { input: { email: ` ${email.toUpperCase()}`, password: STRONG_PASSWORD } });
    expect(res.data?.login.user.id).toBe(user.id);
  });

  test("an address PostgreSQL could not hold (a NUL) is BAD_USER_INPUT, not an internal error", async () => {
    const res = await t.gql(LOGIN, { input: { email: "ada\u0000@example.com", password: STRONG_PASSWORD } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "email" });
  });

  test("an unknown address and a wrong password give the same error", async () => {
    const email = uniqueEmail();
    await register(t, { email });
    const wrong = await t.gql(LOGIN, { input: { email, password: "not-the-password" } });
    const unknown = await t.gql(LOGIN, { input: { email: uniqueEmail(), password: "not-the-password" } });
    expect(wrong.errors?.[0]?.extensions.code).toBe("UNAUTHENTICATED");
    expect(unknown.errors?.[0]).toEqual(wrong.errors?.[0]);
  });

  test("accepts the password in another Unicode normal form", async () => {
    const email = uniqueEmail();
    await register(t, { email, password: "café-kettle-orbit" });
    const decomposed = "café-kettle-orbit".normalize("NFD");
    const res = await t.gql(LOGIN, { input: { email, password: decomposed } });
    expect(res.data?.login.user.email).toBe(email);
  });

  test("a password change that lands during the password check refuses the login, so no session outlives it", async () => {
    const auth = await register(t);
    let changed: unknown;
    during(t, "verify", async () => {
      changed = (await t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken })).data;
    });
    const failures = async () => sampleValue(await fetchMetrics(t.url), "auth_logins_total", { outcome: "failure" });
    const failedBefore = await failures();
    // The password was right when it was checked, and the change has ended every other session since.
    const res = await t.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } });
    expect(changed).toEqual({ changePassword: true });
    expect(errorCode(res)).toBe("UNAUTHENTICATED");
    // Counted, and logged as login_failed (account_changed), like any refused login.
    expect(await failures()).toBe(failedBefore + 1);
    const fresh = await t.gql(LOGIN, { input: { email: auth.user.email, password: NEW_PASSWORD } });
    const sessions = await t.gql(`{ mySessions { id } }`, {}, { token: fresh.data?.login.accessToken });
    // The changer's own session, which changePassword keeps, and the fresh login's.
    expect(sessions.data?.mySessions).toHaveLength(2);
  });

  test("the access token carries the contract's claims", async () => {
    const auth = await register(t);
    const { header, payload } = jwt.decode(auth.accessToken, { complete: true }) as jwt.Jwt & { payload: jwt.JwtPayload };
    expect(header).toMatchObject({ alg: "HS256", typ: "at+jwt" });
    expect(payload).toMatchObject({ sub: auth.user.id, role: "USER", email_verified: false, iss: "auth-service", aud: "api" });
    expect(Object.keys(payload)).toEqual(expect.arrayContaining(["sid", "iat", "exp", "jti"]));
  });
});

test("a hash made with older parameters is upgraded on the next successful login", async () => {
  const database = await createTestDatabase({ shared: true });
  const email = uniqueEmail();
  const weak = await startTestApp({ ARGON2_MEMORY_KIB: "4096", ARGON2_TIME_COST: "1" }, { database });
  await register(weak, { email });
  await weak.close();

  const current = await startTestApp(SERVICE_ARGON2, { database });
  try {
    const [before] = await current.app.database.db.select().from(users).where(eq(users.email, email));
    expect(before?.passwordHash).toMatch(argon2id(4096, 1, 1));
    const res = await current.gql(LOGIN, { input: { email, password: STRONG_PASSWORD } });
    expect(res.data?.login.user.email).toBe(email);
    const [after] = await current.app.database.db.select().from(users).where(eq(users.email, email));
    expect(after?.passwordHash).toMatch(argon2id(19456, 2, 1));
    const again = await current.gql(LOGIN, { input: { email, password: STRONG_PASSWORD } });
    expect(again.data?.login.user.email).toBe(email);
  } finally {
    await current.close();
    await database.drop();
  }
});

test("a hash upgrade does not overwrite a password set while it was computed", async () => {
  const database = await createTestDatabase({ shared: true });
  // One secret for both apps, so the first app's access token works on the second.
  const JWT_SECRET = randomBytes(32).toString("base64url");
  const weak = await startTestApp({ ARGON2_MEMORY_KIB: "4096", ARGON2_TIME_COST: "1", JWT_SECRET }, { database });
  const auth = await register(weak);
  await weak.close();

  const current = await startTestApp({ ...SERVICE_ARGON2, JWT_SECRET }, { database });
  try {
    // The login's upgrade hashes the old password again; the change lands while it does.
    let changed: unknown;
    during(current, "hash", async () => {
      changed = (await current.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken })).data;
    });
    const res = await current.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } });
    expect(changed).toEqual({ changePassword: true });
    expect(errorCode(res)).toBe("UNAUTHENTICATED");
    const withNew = await current.gql(LOGIN, { input: { email: auth.user.email, password: NEW_PASSWORD } });
    expect(withNew.data?.login.user.id).toBe(auth.user.id);
    const withOld = await current.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } });
    expect(errorCode(withOld)).toBe("UNAUTHENTICATED");
  } finally {
    await current.close();
    await database.drop();
  }
});

test("a login whose hash upgrade finds the hasher busy still signs in, and the upgrade waits for a later login", async () => {
  const database = await createTestDatabase({ shared: true });
  const weak = await startTestApp({ ARGON2_MEMORY_KIB: "4096", ARGON2_TIME_COST: "1" }, { database });
  const auth = await register(weak);
  await weak.close();

  const current = await startTestApp({ ...SERVICE_ARGON2, ARGON2_CONCURRENCY: "1", ARGON2_MAX_QUEUE: "0" }, { database });
  try {
    let held: Promise<unknown> | undefined;
    // Right after the password check, something else takes the only slot: the upgrade is shed.
    during(current, "verify", async () => {
      held = current.app.services.passwords.hash("holding-the-only-slot");
    });
    const res = await current.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } });
    expect(res.data?.login.user.id).toBe(auth.user.id);
    await held;
    expect((await current.app.services.users.findById(auth.user.id))?.passwordHash).toMatch(argon2id(4096, 1, 1));
    await current.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } });
    expect((await current.app.services.users.findById(auth.user.id))?.passwordHash).toMatch(argon2id(19456, 2, 1));
  } finally {
    await current.close();
    await database.drop();
  }
});

// The embedded database has one connection, so it cannot hold a change open beside a login.
testWithPostgres("a session starting while a change of its account is uncommitted waits for it, then is refused", async () => {
  const auth = await register(t);
  const seen = (await t.app.services.users.findById(auth.user.id))!;
  const sql = postgres(t.app.config.database.url!, { max: 1 });
  try {
    let started: ReturnType<typeof t.app.services.sessions.start> | undefined;
    await sql.begin(async (tx) => {
      await tx`update users set token_version = token_version + 1 where id = ${auth.user.id}`;
      started = t.app.services.sessions.start(seen, { ip: null, userAgent: null, requestId: null });
      const settled = await Promise.race([started.then(() => "settled"), new Promise((resolve) => setTimeout(resolve, 300, "waiting"))]);
      expect(settled).toBe("waiting");
    });
    // The change is committed now: the start reads the row as changed.
    await expect(started).resolves.toBeNull();
  } finally {
    await sql.end();
  }
});

testWithPostgres("a statement stuck behind a lock is cancelled at DATABASE_STATEMENT_TIMEOUT: the login fails cleanly instead of waiting, and works once the lock is gone", async () => {
  const { app: stuck, sql, close } = await startStuckApp();
  try {
    const auth = await register(stuck);
    const login = () => stuck.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } });
    await sql.begin(async (tx) => {
      // Held, as a slow admin change or a stuck client would hold it: the session start waits on it.
      await tx`select 1 from users where id = ${auth.user.id} for update`;
      const answer = await Promise.race([login(), new Promise((resolve) => setTimeout(resolve, 8_000, "still waiting"))]);
      expect(answer).not.toBe("still waiting");
      expect(errorCode(answer as Awaited<ReturnType<typeof login>>)).toBe("INTERNAL_SERVER_ERROR");
    });
    expect((await login()).data?.login.user.id).toBe(auth.user.id);
  } finally {
    await close();
  }
}, 20_000);

testWithPostgres("a sign-in that starts its session while a password change waits for the account's row is ended by the change", async () => {
  const auth = await register(t);
  const sql = postgres(t.app.config.database.url!, { max: 2 });
  try {
    let change: ReturnType<typeof t.gql> | undefined;
    let signedIn: Record<string, unknown> | undefined;
    await sql.begin(async (tx) => {
      // What a sign-in starting its session holds: the change's write waits for it.
      await tx`select 1 from users where id = ${auth.user.id} for share`;
      change = t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken });
      await waitFor(async () => {
        const [waiting] = await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
        expect(waiting?.n).toBeGreaterThan(0);
      }, 5_000);
      // A sign-in with the old password, its session started while the change waits.
      signedIn = (await t.gql(LOGIN, { input: { email: auth.user.email, password: STRONG_PASSWORD } })).data?.login;
    });
    expect((await change!).data).toEqual({ changePassword: true });
    expect(signedIn?.refreshToken).toEqual(expect.any(String));
    const refreshed = await t.gql(`mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken } }`, { token: signedIn?.refreshToken });
    expect(errorCode(refreshed)).toBe("UNAUTHENTICATED");
  } finally {
    await sql.end();
  }
});

testWithPostgres("a password change that fails part-way changes nothing: the password stays, and so do the sessions it would have ended", async () => {
  const { app: stuck, logs, sql, close } = await startStuckApp();
  try {
    const auth = await register(stuck);
    const login = (password: string) => stuck.gql(LOGIN, { input: { email: auth.user.email, password } });
    const other = (await login(STRONG_PASSWORD)).data?.login;
    const own = (jwt.decode(auth.accessToken) as jwt.JwtPayload).sid as string;
    await sql.begin(async (tx) => {
      // The other session's row is held (a refresh of it under way, say): ending it waits until the statement times out.
      await tx`select 1 from sessions where user_id = ${auth.user.id} and id <> ${own} for update`;
      const change = await stuck.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken });
      expect(errorCode(change)).toBe("INTERNAL_SERVER_ERROR");
      // Failed where the test made it fail: the statement that ends the sessions, timed out.
      expect(logs.text()).toContain("canceling statement due to statement timeout");
    });
    // Had the password changed alone, the other session's refresh token would hand out access tokens of the new version.
    expect(errorCode(await login(NEW_PASSWORD))).toBe("UNAUTHENTICATED");
    expect((await login(STRONG_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
    const refreshed = await stuck.gql(`mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken } }`, { token: other?.refreshToken });
    expect(refreshed.data?.refreshToken.accessToken).toEqual(expect.any(String));
    expect((await stuck.gql(`{ me { id } }`, {}, { token: auth.accessToken })).data?.me.id).toBe(auth.user.id);
  } finally {
    await close();
  }
}, 20_000);

describe("me", () => {
  test("is null without a token", async () => {
    const res = await t.gql(`{ me { id } }`);
    expect(res.data).toEqual({ me: null });
    expect(res.errors).toBeUndefined();
  });

  test.each([
    ["garbage", "Bearer not.a.token"],
    ["another scheme", "Basic dXNlcjpwYXNz"],
    ["a token signed by someone else", `Bearer ${jwt.sign({ sub: "x" }, "some-other-secret-that-is-long-enough!!")}`],
  ])("is UNAUTHENTICATED with %s", async (_label, authorization) => {
    const res = await t.gql(`{ me { id } }`, {}, { headers: { authorization } });
    expect(errorCode(res)).toBe("UNAUTHENTICATED");
  });
});

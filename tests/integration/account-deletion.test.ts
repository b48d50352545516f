import { eq } from "drizzle-orm";
import { knownDevices, sessions, users } from "../../src/db/schema";
import { captureLogs } from "../helpers/log-capture";
import { AUTH_FIELDS, during, errorCode, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type TestApp } from "../helpers/test-app";

const DELETE_ACCOUNT = `mutation($password: String!) { deleteAccount(password: $password) }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken } }`;
const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;
const ME = `{ me { id email } }`;

const logs = captureLogs();
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { logger: logs.logger });
});
afterAll(() => t.close());

const deleteAccount = (auth: AuthPayload, password: string) => t.gql(DELETE_ACCOUNT, { password }, { token: auth.accessToken });
const signIn = async (email: string, password = STRONG_PASSWORD) => (await t.gql<{ login: AuthPayload }>(LOGIN, { email, password })).data!.login;
const rowsOf = async (id: string) => ({
  users: await t.app.database.db.select({ id: users.id }).from(users).where(eq(users.id, id)),
  sessions: await t.app.database.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, id)),
  knownDevices: await t.app.database.db.select({ device: knownDevices.device }).from(knownDevices).where(eq(knownDevices.userId, id)),
});

test("deletes the account and every session of it: its tokens stop working at once, and the address may register again", async () => {
  const first = await register(t);
  const second = await signIn(first.user.email);
  // The device both signed in from (Sessions.start) goes with the account too.
  expect((await rowsOf(first.user.id)).knownDevices).toHaveLength(1);

  expect((await deleteAccount(first, STRONG_PASSWORD)).data).toEqual({ deleteAccount: true });

  for (const session of [first, second]) {
    expect(errorCode(await t.gql(ME, {}, { token: session.accessToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(REFRESH, { token: session.refreshToken }))).toBe("UNAUTHENTICATED");
  }
  expect(errorCode(await t.gql(LOGIN, { email: first.user.email, password: STRONG_PASSWORD }))).toBe("UNAUTHENTICATED");
  expect(await rowsOf(first.user.id)).toEqual({ users: [], sessions: [], knownDevices: [] });
  // A gateway resolving the id learns it is gone.
  const entities = await t.gql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }`, { r: [{ __typename: "User", id: first.user.id }] });
  expect(entities.data).toEqual({ _entities: [null] });

  const again = await register(t, { email: first.user.email });
  expect(again.user.id).not.toBe(first.user.id);
  // An audit finds who and from where, never the address.
  const event = logs.records().find((record) => record.event === "account_deleted");
  expect(event).toMatchObject({ userId: first.user.id, ip: expect.any(String), requestId: expect.any(String) });
  expect(JSON.stringify(event)).not.toContain(first.user.email);
});

test("the one-time tokens the account issued die with it, whoever presents them", async () => {
  const auth = await register(t);
  const issued = await t.gql(`mutation { issueOneTimeToken(purpose: "export") { token } }`, {}, { token: auth.accessToken });
  const token = issued.data!.issueOneTimeToken.token as string;
  expect((await deleteAccount(auth, STRONG_PASSWORD)).data).toEqual({ deleteAccount: true });
  const email = uniqueEmail("admin");
  await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  const admin = await signIn(email);
  const consumed = await t.gql(`mutation($t: String!) { consumeOneTimeToken(token: $t, purpose: "export") { purpose } }`, { t: token }, { token: admin.accessToken });
  expect(errorCode(consumed)).toBe("INVALID_TOKEN");
});

test("a wrong password deletes nothing and names the field", async () => {
  const auth = await register(t);
  const res = await deleteAccount(auth, "not-my-password-at-all");
  expect(res.errors?.[0]).toMatchObject({ message: "Password is incorrect", extensions: { code: "BAD_USER_INPUT", field: "password" } });
  expect((await t.gql(ME, {}, { token: auth.accessToken })).data?.me).toEqual({ id: auth.user.id, email: auth.user.email });
});

test("needs a caller", async () => {
  expect(errorCode(await t.gql(DELETE_ACCOUNT, { password: STRONG_PASSWORD }))).toBe("UNAUTHENTICATED");
});

test("an admin account is refused: it stays, and can still sign in", async () => {
  const email = uniqueEmail("admin");
  await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  const admin = await signIn(email);
  const res = await deleteAccount(admin, STRONG_PASSWORD);
  expect(errorCode(res)).toBe("FORBIDDEN");
  expect((await signIn(email)).user.role).toBe("ADMIN");
});

// Each change below retires the caller the deletion was authenticated as; the change stands.
describe("a change that lands while the password is checked stands, and the account stays", () => {
  test("a new password, set through the same session (which it keeps)", async () => {
    const auth = await register(t);
    const NEW_PASSWORD = "quince-lantern-harbor-7";
    during(t, "verify", async () => {
      expect((await t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken })).data).toEqual({ changePassword: true });
    });
    expect(errorCode(await deleteAccount(auth, STRONG_PASSWORD))).toBe("UNAUTHENTICATED");
    expect((await signIn(auth.user.email, NEW_PASSWORD)).user.id).toBe(auth.user.id);
  });

  test("the session revoked from another one", async () => {
    const auth = await register(t);
    const other = await signIn(auth.user.email);
    const { sid } = JSON.parse(Buffer.from(auth.accessToken.split(".")[1]!, "base64url").toString()) as { sid: string };
    during(t, "verify", async () => {
      expect((await t.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: sid }, { token: other.accessToken })).data).toEqual({ revokeSession: true });
    });
    expect(errorCode(await deleteAccount(auth, STRONG_PASSWORD))).toBe("UNAUTHENTICATED");
    expect((await t.gql(ME, {}, { token: other.accessToken })).data?.me).toEqual({ id: auth.user.id, email: auth.user.email });
  });

  test("a promotion to ADMIN", async () => {
    const auth = await register(t);
    const email = uniqueEmail("admin");
    await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
    const admin = await signIn(email);
    during(t, "verify", async () => {
      const res = await t.gql(`mutation($id: ID!) { setUserRole(id: $id, role: ADMIN) { role } }`, { id: auth.user.id }, { token: admin.accessToken });
      expect(res.data).toEqual({ setUserRole: { role: "ADMIN" } });
    });
    expect(errorCode(await deleteAccount(auth, STRONG_PASSWORD))).toBe("UNAUTHENTICATED");
    expect((await signIn(auth.user.email)).user.role).toBe("ADMIN");
  });
});

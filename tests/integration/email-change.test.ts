import { captureLogs } from "../helpers/log-capture";
import { startSmtpReceiver, type SmtpReceiver } from "../helpers/smtp-receiver";
import { AUTH_FIELDS, errorCode, register, registerVerified, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type TestApp } from "../helpers/test-app";

const FRONTEND = "http://frontend.test/account";
const REQUEST_CHANGE = `mutation($email: String!, $password: String!) { requestEmailChange(newEmail: $email, password: $password) }`;
const VERIFY = `mutation($token: String!) { verifyEmail(token: $token) { id email emailVerified } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken } }`;
const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;
const REQUEST_RESET = `mutation($email: String!) { requestPasswordReset(email: $email) }`;
const RESET = `mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }`;
const ME = `{ me { id email emailVerified } }`;

const logs = captureLogs();
let smtp: SmtpReceiver;
let t: TestApp;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  t = await startTestApp({ SMTP_URL: smtp.url, FRONTEND_URL: FRONTEND }, { logger: logs.logger });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

const requestChange = (auth: AuthPayload, email: string, password = STRONG_PASSWORD) => t.gql(REQUEST_CHANGE, { email, password }, { token: auth.accessToken });

/** The token of the `skip`-th link of that kind emailed to `to`. */
async function tokenFromMail(to: string, path: "verify-email" | "reset-password", skip = 0): Promise<string> {
  const pattern = new RegExp(`${FRONTEND}/${path}\\?token=([A-Za-z0-9_-]+)`);
  const mail = await smtp.waitForMail(to, (m) => pattern.test(m.text) && smtp.mails.filter((x) => x.to.includes(to) && pattern.test(x.text)).indexOf(m) === skip);
  return pattern.exec(mail.text)![1]!;
}

test("the link emailed to the new address makes it the account's, verified; the old address is told, and signs in no more", async () => {
  const auth = await registerVerified(t);
  const oldEmail = auth.user.email;
  const newEmail = uniqueEmail("moved");
  expect((await requestChange(auth, newEmail.toUpperCase())).data).toEqual({ requestEmailChange: true });
  // Nothing changes until the new address opens its link.
  expect((await t.gql(ME, {}, { token: auth.accessToken })).data?.me).toEqual({ id: auth.user.id, email: oldEmail, emailVerified: true });

  const token = await tokenFromMail(newEmail, "verify-email");
  const mail = smtp.mails.find((m) => m.to.includes(newEmail))!;
  expect(mail.subject).toBe("Confirm your new email address");
  expect((await t.gql(VERIFY, { token })).data).toEqual({ verifyEmail: { id: auth.user.id, email: newEmail, emailVerified: true } });
  expect(errorCode(await t.gql(VERIFY, { token }))).toBe("INVALID_TOKEN");

  // The access tokens issued before are retired; the session goes on, and its refresh sees the new address.
  expect(errorCode(await t.gql(ME, {}, { token: auth.accessToken }))).toBe("UNAUTHENTICATED");
  const refreshed = (await t.gql(REFRESH, { token: auth.refreshToken })).data!.refreshToken.accessToken as string;
  expect((await t.gql(ME, {}, { token: refreshed })).data?.me).toEqual({ id: auth.user.id, email: newEmail, emailVerified: true });
  expect(errorCode(await t.gql(LOGIN, { email: oldEmail, password: STRONG_PASSWORD }))).toBe("UNAUTHENTICATED");
  expect((await t.gql<{ login: AuthPayload }>(LOGIN, { email: newEmail, password: STRONG_PASSWORD })).data?.login.user.id).toBe(auth.user.id);

  const notice = await smtp.waitForMail(oldEmail, (m) => m.subject === "Your email address was changed");
  // The new address is masked: the old mailbox may be one the owner gave up.
  expect(notice.text).toContain(`moved to ${newEmail[0]}***@example.com on `);
  expect(notice.text + notice.html).not.toContain(newEmail);
  // Its one link undoes the change (tests/integration/email-change-revert.test.ts).
  expect(notice.text.match(/https?:\/\/\S+/g)).toEqual([expect.stringMatching(new RegExp(`^${FRONTEND}/revert-email\\?token=[\\w-]+$`))]);
  // The log joins the request and the change by the account's id, naming neither address.
  const events = logs.records().filter((r) => r.userId === auth.user.id && ["email_change_requested", "email_changed"].includes(r.event));
  expect(events.map((r) => r.event)).toEqual(["email_change_requested", "email_changed"]);
  expect(JSON.stringify(events)).not.toMatch(new RegExp(`${oldEmail}|${newEmail}`));
});

test.each([
  ["", false],
  [", even with the store's record of which is newest lost (evicted, say)", true],
])("only the newest link works%s: one sent to a mistyped address dies when the right one is asked for", async (_case, isRecordLost) => {
  const auth = await register(t);
  const mistyped = uniqueEmail("typo");
  const intended = uniqueEmail("intended");
  await requestChange(auth, mistyped);
  const stale = await tokenFromMail(mistyped, "verify-email");
  if (isRecordLost) await t.app.store.delete(`email-change-latest:${auth.user.id}`);
  await requestChange(auth, intended);
  const fresh = await tokenFromMail(intended, "verify-email");
  expect(errorCode(await t.gql(VERIFY, { token: stale }))).toBe("INVALID_TOKEN");
  expect((await t.gql(VERIFY, { token: fresh })).data?.verifyEmail.email).toBe(intended);
});

test("a wrong password, the same address, a malformed one or one already taken is refused on its field, and nothing is sent", async () => {
  const auth = await register(t);
  const other = await register(t);
  const wrongPassword = uniqueEmail("unsent");
  expect((await requestChange(auth, wrongPassword, "not-my-password-at-all")).errors?.[0]).toMatchObject({
    message: "Password is incorrect",
    extensions: { code: "BAD_USER_INPUT", field: "password" },
  });
  expect((await requestChange(auth, ` ${auth.user.email.toUpperCase()} `)).errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "newEmail" });
  expect((await requestChange(auth, "not an address")).errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "newEmail" });
  expect((await requestChange(auth, other.user.email)).errors?.[0]?.extensions).toEqual({ code: "EMAIL_TAKEN", field: "newEmail" });
  // A link asked for after them arrives: one sent for them would have come first.
  const accepted = uniqueEmail("sent");
  await requestChange(auth, accepted);
  await tokenFromMail(accepted, "verify-email");
  expect(smtp.mails.filter((m) => m.to.includes(wrongPassword) || (m.to.includes(other.user.email) && m.subject === "Confirm your new email address"))).toEqual([]);
});

test("needs a caller", async () => {
  expect(errorCode(await t.gql(REQUEST_CHANGE, { email: uniqueEmail(), password: STRONG_PASSWORD }))).toBe("UNAUTHENTICATED");
});

test("a reset link sent to the old address dies with the change", async () => {
  const auth = await register(t);
  await t.gql(REQUEST_RESET, { email: auth.user.email });
  const reset = await tokenFromMail(auth.user.email, "reset-password");
  const newEmail = uniqueEmail("moved");
  await requestChange(auth, newEmail);
  await t.gql(VERIFY, { token: await tokenFromMail(newEmail, "verify-email") });
  expect(errorCode(await t.gql(RESET, { token: reset, password: "fresh-harbor-lamp-9" }))).toBe("INVALID_TOKEN");
  expect(errorCode(await t.gql(LOGIN, { email: newEmail, password: STRONG_PASSWORD }))).toBeUndefined();
});

test("a password changed after the request retires its link: the address stays", async () => {
  const auth = await register(t);
  const newEmail = uniqueEmail("moved");
  await requestChange(auth, newEmail);
  const token = await tokenFromMail(newEmail, "verify-email");
  expect((await t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: "fresh-harbor-lamp-9" }, { token: auth.accessToken })).data).toEqual({ changePassword: true });
  expect(errorCode(await t.gql(VERIFY, { token }))).toBe("INVALID_TOKEN");
  expect(errorCode(await t.gql(LOGIN, { email: auth.user.email, password: "fresh-harbor-lamp-9" }))).toBeUndefined();
});

test("an address another account took meanwhile is EMAIL_TAKEN when the link is opened, and both accounts keep theirs", async () => {
  const auth = await register(t);
  const contested = uniqueEmail("contested");
  await requestChange(auth, contested);
  const token = await tokenFromMail(contested, "verify-email");
  const rival = await register(t, { email: contested });
  expect(errorCode(await t.gql(VERIFY, { token }))).toBe("EMAIL_TAKEN");
  expect((await t.gql<{ login: AuthPayload }>(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD })).data?.login.user.id).toBe(auth.user.id);
  expect((await t.gql<{ login: AuthPayload }>(LOGIN, { email: contested, password: STRONG_PASSWORD })).data?.login.user.id).toBe(rival.user.id);
});

describe("the pending change", () => {
  const PENDING = `{ me { pendingEmail } }`;
  const CANCEL = `mutation { cancelEmailChange }`;
  const pendingOf = async (auth: AuthPayload) => (await t.gql(PENDING, {}, { token: auth.accessToken })).data?.me.pendingEmail as string | null | undefined;

  test("shows on the account until its link is opened, and cancelEmailChange retires the link: the address stays", async () => {
    const auth = await register(t);
    expect(await pendingOf(auth)).toBeNull();
    const newEmail = uniqueEmail("pending");
    await requestChange(auth, newEmail);
    expect(await pendingOf(auth)).toBe(newEmail);
    const token = await tokenFromMail(newEmail, "verify-email");

    expect((await t.gql(CANCEL, {}, { token: auth.accessToken })).data).toEqual({ cancelEmailChange: true });
    expect(await pendingOf(auth)).toBeNull();
    expect(errorCode(await t.gql(VERIFY, { token }))).toBe("INVALID_TOKEN");
    expect((await t.gql(ME, {}, { token: auth.accessToken })).data?.me.email).toBe(auth.user.email);
    // Nothing to cancel is no error.
    expect((await t.gql(CANCEL, {}, { token: auth.accessToken })).data).toEqual({ cancelEmailChange: true });
    expect(errorCode(await t.gql(CANCEL))).toBe("UNAUTHENTICATED");
  });

  test("is gone once the link made the change, or once a new password retired it", async () => {
    const moved = await register(t);
    const newEmail = uniqueEmail("pending");
    await requestChange(moved, newEmail);
    await t.gql(VERIFY, { token: await tokenFromMail(newEmail, "verify-email") });
    const signedIn = (await t.gql<{ login: AuthPayload }>(LOGIN, { email: newEmail, password: STRONG_PASSWORD })).data!.login;
    expect(await pendingOf(signedIn)).toBeNull();

    const retired = await register(t);
    await requestChange(retired, uniqueEmail("pending"));
    expect((await t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: "fresh-harbor-lamp-9" }, { token: retired.accessToken })).data).toEqual({ changePassword: true });
    const again = (await t.gql<{ login: AuthPayload }>(LOGIN, { email: retired.user.email, password: "fresh-harbor-lamp-9" })).data!.login;
    expect(await pendingOf(again)).toBeNull();
  });

  test("is for the account itself and admins: another account reading it gets FORBIDDEN", async () => {
    const owner = await register(t);
    const other = await register(t);
    const newEmail = uniqueEmail("pending");
    await requestChange(owner, newEmail);
    const ENTITY = `query($id: ID!) { _entities(representations: [{ __typename: "User", id: $id }]) { ... on User { id pendingEmail } } }`;
    expect(errorCode(await t.gql(ENTITY, { id: owner.user.id }, { token: other.accessToken }))).toBe("FORBIDDEN");

    const adminEmail = uniqueEmail("admin");
    await t.app.services.userAdmin.provisionAdmin(adminEmail, STRONG_PASSWORD);
    const admin = (await t.gql<{ login: AuthPayload }>(LOGIN, { email: adminEmail, password: STRONG_PASSWORD })).data!.login;
    expect((await t.gql(`query($id: ID!) { user(id: $id) { pendingEmail } }`, { id: owner.user.id }, { token: admin.accessToken })).data?.user.pendingEmail).toBe(newEmail);
  });
});

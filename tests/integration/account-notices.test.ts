import { captureLogs } from "../helpers/log-capture";
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from "../helpers/smtp-receiver";
import { errorCode, register, startTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";
import { NEW_SIGN_IN_NOTICES_PER_HOUR } from "../../src/auth/account-notices";
import { KNOWN_DEVICE_DAYS } from "../../src/auth/sessions";

const FRONTEND = "http://frontend.test/account";
const NEW_PASSWORD = "fresh-harbor-lamp-9";
const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;
const REQUEST_RESET = `mutation($email: String!) { requestPasswordReset(email: $email) }`;
const RESET = `mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }`;
const DELETE_ACCOUNT = `mutation($password: String!) { deleteAccount(password: $password) }`;
const DELETE_USER = `mutation($id: ID!) { deleteUser(id: $id) }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { accessToken } }`;

const PASSWORD_CHANGED = "Your password was changed";
const ACCOUNT_DELETED = "Your account was deleted";

let smtp: SmtpReceiver;
let t: TestApp;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  t = await startTestApp({ SMTP_URL: smtp.url, FRONTEND_URL: FRONTEND });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

const signIn = async (app: TestApp, email: string, password: string) => (await app.gql<{ login: { accessToken: string } }>(LOGIN, { email, password })).data!.login;
const noticesTo = (receiver: SmtpReceiver, to: string, subject: string) => receiver.mails.filter((mail) => mail.to.includes(to) && mail.subject === subject);

/** A notice says what happened and when, and hands its reader nothing to click or copy. */
function expectNotice(mail: ReceivedMail, says: RegExp): void {
  expect(mail.text).toMatch(says);
  expect(mail.text).toMatch(/ on \d{4}-\d{2}-\d{2} at \d{2}:\d{2} UTC/);
  expect(mail.html).toMatch(says);
  for (const body of [mail.text, mail.html]) {
    expect(body).not.toMatch(/https?:|token=/);
    expect(body).not.toContain(FRONTEND);
  }
}

/**
 * The reset link emailed to `email`, asked for now: the first to arrive after the call, not one
 * asked for before. A notice sent before it was asked for has arrived by then.
 */
async function resetToken(email: string, app: TestApp = t): Promise<string> {
  const pattern = /reset-password\?token=([A-Za-z0-9_-]+)/;
  const links = () => smtp.mails.filter((mail) => mail.to.includes(email) && pattern.test(mail.text));
  const before = links().length;
  await app.gql(REQUEST_RESET, { email });
  const mail = await waitFor(async () => links()[before] ?? Promise.reject(new Error("no reset link yet")), 5000);
  return pattern.exec(mail.text)![1]!;
}

/** A new admin's id, and an access token of theirs. */
async function signedInAdmin(): Promise<{ id: string; accessToken: string }> {
  const email = uniqueEmail("admin");
  const { user } = await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  return { id: user.id, ...(await signIn(t, email, STRONG_PASSWORD)) };
}

test("a changed password is notified to the account's address, once the change is made", async () => {
  const auth = await register(t);
  const email = auth.user.email;
  // A refused change (wrong current password) notifies nobody: a reset link asked for after it
  // arrives, and a notice sent would have come first.
  expect(errorCode(await t.gql(CHANGE_PASSWORD, { current: "not-my-password-at-all", next: NEW_PASSWORD }, { token: auth.accessToken }))).toBe("BAD_USER_INPUT");
  await resetToken(email);
  expect(noticesTo(smtp, email, PASSWORD_CHANGED)).toEqual([]);

  expect((await t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken })).data).toEqual({ changePassword: true });

  const mail = await smtp.waitForMail(email, (m) => m.subject === PASSWORD_CHANGED);
  expectNotice(mail, /password of the account registered with this address was changed/);
  expect(mail.text).toMatch(/If it was not, .*Forgot your password/);
  expect(noticesTo(smtp, email, PASSWORD_CHANGED)).toHaveLength(1);
});

test("a password reset through the emailed link is notified too", async () => {
  const auth = await register(t);
  const email = auth.user.email;
  expect((await t.gql(RESET, { token: await resetToken(email), password: NEW_PASSWORD })).data).toEqual({ resetPassword: true });
  expectNotice(await smtp.waitForMail(email, (m) => m.subject === PASSWORD_CHANGED), /was reset with an emailed link/);
});

test("an account deleted by its owner, or by an admin, is notified to the address it had", async () => {
  const owner = await register(t);
  expect((await t.gql(DELETE_ACCOUNT, { password: STRONG_PASSWORD }, { token: owner.accessToken })).data).toEqual({ deleteAccount: true });
  expectNotice(await smtp.waitForMail(owner.user.email, (m) => m.subject === ACCOUNT_DELETED), /deleted on .*, after its password was confirmed/);

  const user = await register(t);
  const admin = await signedInAdmin();
  // An admin account is refused: nothing is deleted, and nobody is told it was.
  expect(errorCode(await t.gql(DELETE_USER, { id: (await signedInAdmin()).id }, { token: admin.accessToken }))).toBe("FORBIDDEN");
  expect((await t.gql(DELETE_USER, { id: user.user.id }, { token: admin.accessToken })).data).toEqual({ deleteUser: true });
  expectNotice(await smtp.waitForMail(user.user.email, (m) => m.subject === ACCOUNT_DELETED), /An administrator deleted the account/);
  expect(smtp.mails.filter((m) => m.subject === ACCOUNT_DELETED && m.to.some((to) => to.startsWith("admin-")))).toEqual([]);
});

test("what an admin changes is notified: a deactivation, a reactivation, a new role; a call that changes nothing is not", async () => {
  const SET_ACTIVE = `mutation($id: ID!, $active: Boolean!) { setUserActive(id: $id, active: $active) { active } }`;
  const SET_ROLE = `mutation($id: ID!, $role: Role!) { setUserRole(id: $id, role: $role) { role } }`;
  const { user } = await register(t);
  const admin = await signedInAdmin();
  const asAdmin = (query: string, variables: Record<string, unknown>) => t.gql(query, { id: user.id, ...variables }, { token: admin.accessToken });

  expect((await asAdmin(SET_ACTIVE, { active: false })).data).toEqual({ setUserActive: { active: false } });
  expectNotice(await smtp.waitForMail(user.email, (m) => m.subject === "Your account was deactivated"), /An administrator deactivated the account registered with this address on .*It can no longer sign in/);
  // Already so: nothing changed, and nobody is told.
  expect((await asAdmin(SET_ACTIVE, { active: false })).data).toEqual({ setUserActive: { active: false } });
  expect((await asAdmin(SET_ACTIVE, { active: true })).data).toEqual({ setUserActive: { active: true } });
  expectNotice(await smtp.waitForMail(user.email, (m) => m.subject === "Your account was reactivated"), /An administrator reactivated the account/);

  expect((await asAdmin(SET_ROLE, { role: "ADMIN" })).data).toEqual({ setUserRole: { role: "ADMIN" } });
  expectNotice(await smtp.waitForMail(user.email, (m) => m.subject === "Your account is now an administrator"), /made the account registered with this address an administrator/);
  expect((await asAdmin(SET_ROLE, { role: "USER" })).data).toEqual({ setUserRole: { role: "USER" } });
  expectNotice(await smtp.waitForMail(user.email, (m) => m.subject === "Your account is no longer an administrator"), /a user account again/);
  expect(noticesTo(smtp, user.email, "Your account was deactivated")).toHaveLength(1);
  // The admin is not told of what they did.
  expect(smtp.mails.filter((m) => m.subject.startsWith("Your account") && m.to.some((to) => to.startsWith("admin-")))).toEqual([]);
});

const NEW_SIGN_IN = "New sign-in to your account";
const DAY_MS = 24 * 60 * 60 * 1000;
const CHROME_156 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const CHROME_157 = CHROME_156.replace("156", "157");
const FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0 (call +1-555-0100 or visit evil.example to keep your account)";
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { user { id email } } }`;

const loginAs = (app: TestApp, email: string, userAgent: string) => app.gql(LOGIN, { email, password: STRONG_PASSWORD }, { headers: { "user-agent": userAgent } });

/** Returns once the notices sent so far have arrived (resetToken). */
async function afterNoticesSettle(email: string, app: TestApp = t): Promise<void> {
  await resetToken(email, app);
}

test("a sign-in from a browser the account had not been signed in from is notified, once; a browser's update is no new device", async () => {
  const email = uniqueEmail("devices");
  expect(errorCode(await t.gql(REGISTER, { input: { email, password: STRONG_PASSWORD } }, { headers: { "user-agent": CHROME_156 } }))).toBeUndefined();
  // The browser it registered with, and the same one a version later.
  expect(errorCode(await loginAs(t, email, CHROME_156))).toBeUndefined();
  expect(errorCode(await loginAs(t, email, CHROME_157))).toBeUndefined();
  await afterNoticesSettle(email);
  expect(noticesTo(smtp, email, NEW_SIGN_IN)).toEqual([]);

  expect(errorCode(await loginAs(t, email, FIREFOX_LINUX))).toBeUndefined();
  const mail = await smtp.waitForMail(email, (m) => m.subject === NEW_SIGN_IN);
  expectNotice(mail, /signed in to on .* from Firefox on Linux at the IP address 127\.0\.0\.1/);
  expect(mail.text).toMatch(/If it was not, .*Forgot your password/);
  // The device is named from a fixed list: nothing the client sent is copied into the email.
  for (const body of [mail.text, mail.html]) expect(body).not.toMatch(/evil|555|rv:140/);

  // Known from now on; and a wrong password is no sign-in.
  expect(errorCode(await loginAs(t, email, FIREFOX_LINUX))).toBeUndefined();
  expect(errorCode(await t.gql(LOGIN, { email, password: "not-my-password-at-all" }, { headers: { "user-agent": "Opera/9.80 (Windows NT 6.1) Presto/2.12" } }))).toBe("UNAUTHENTICATED");
  await afterNoticesSettle(email);
  expect(noticesTo(smtp, email, NEW_SIGN_IN)).toHaveLength(1);
});

test("an account's first session is no new device: an admin made from the command line signs in for the first time", async () => {
  const email = uniqueEmail("first");
  await t.app.services.userAdmin.provisionAdmin(email, STRONG_PASSWORD);
  expect(errorCode(await loginAs(t, email, FIREFOX_LINUX))).toBeUndefined();
  expect(errorCode(await loginAs(t, email, CHROME_156))).toBeUndefined();
  const mail = await smtp.waitForMail(email, (m) => m.subject === NEW_SIGN_IN);
  expectNotice(mail, /from Chrome on Windows/);
  await afterNoticesSettle(email);
  expect(noticesTo(smtp, email, NEW_SIGN_IN)).toHaveLength(1);
});

test(`a device stays known for ${KNOWN_DEVICE_DAYS} days after its last sign-in, after its sessions are purged too; then it is new again`, async () => {
  let offsetMs = 0;
  const app = await startTestApp({ SMTP_URL: smtp.url, FRONTEND_URL: FRONTEND }, { now: () => new Date(Date.now() + offsetMs) });
  try {
    const email = uniqueEmail("kept");
    expect(errorCode(await app.gql(REGISTER, { input: { email, password: STRONG_PASSWORD } }, { headers: { "user-agent": CHROME_156 } }))).toBeUndefined();
    const { accessToken } = (await loginAs(app, email, FIREFOX_LINUX)).data!.login;
    await smtp.waitForMail(email, (m) => m.subject === NEW_SIGN_IN);

    // Signed out everywhere, and two days on every session is purged: Firefox is still known.
    expect((await app.gql(`mutation { logoutAll }`, {}, { token: accessToken })).data).toEqual({ logoutAll: true });
    offsetMs += 2 * DAY_MS;
    expect(await app.app.services.sessions.purgeEnded()).toBeGreaterThanOrEqual(2);
    expect(errorCode(await loginAs(app, email, FIREFOX_LINUX))).toBeUndefined();
    await afterNoticesSettle(email, app);
    expect(noticesTo(smtp, email, NEW_SIGN_IN)).toHaveLength(1);

    // Past the window (its sessions expired and purged too), it is new again.
    offsetMs += (KNOWN_DEVICE_DAYS + 1) * DAY_MS;
    await app.app.services.sessions.purgeEnded();
    expect(errorCode(await loginAs(app, email, FIREFOX_LINUX))).toBeUndefined();
    await waitFor(async () => (noticesTo(smtp, email, NEW_SIGN_IN).length === 2 ? true : Promise.reject(new Error("not yet"))), 5000);

    // The purge forgets what the window no longer counts: Chrome, last seen at registration.
    expect(await app.app.services.sessions.purgeForgottenDevices()).toBe(1);
    expect(await app.app.services.sessions.purgeForgottenDevices()).toBe(0);
  } finally {
    await app.close();
  }
});

test(`new-device notices stop at ${NEW_SIGN_IN_NOTICES_PER_HOUR} an hour per account: a password holder cannot mail its owner without end`, async () => {
  const auth = await register(t);
  const { email } = auth.user;
  for (let i = 0; i < NEW_SIGN_IN_NOTICES_PER_HOUR + 2; i++) expect(errorCode(await loginAs(t, email, `Device${"X".repeat(i + 1)}/1.0`))).toBeUndefined();
  await waitFor(async () => (noticesTo(smtp, email, NEW_SIGN_IN).length >= NEW_SIGN_IN_NOTICES_PER_HOUR ? true : Promise.reject(new Error("not yet"))), 5000);
  await afterNoticesSettle(email);
  expect(noticesTo(smtp, email, NEW_SIGN_IN)).toHaveLength(NEW_SIGN_IN_NOTICES_PER_HOUR);
  for (const mail of noticesTo(smtp, email, NEW_SIGN_IN)) expectNotice(mail, /from an unrecognised browser or app/);
});

test("a mail server that refuses the notice loses nothing: the change stands, and the log says which email failed", async () => {
  const refusing = await startSmtpReceiver({ refuseRecipients: true });
  const logs = captureLogs();
  const app = await startTestApp({ SMTP_URL: refusing.url }, { logger: logs.logger });
  try {
    const auth = await register(app);
    expect((await app.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken })).data).toEqual({ changePassword: true });
    const failure = await waitFor(async () => logs.records().find((r) => r.msg === "email could not be sent" && r.kind === "password_changed") ?? Promise.reject(new Error("not yet")), 5000);
    expect(failure).toMatchObject({ userId: auth.user.id });
    expect(JSON.stringify(failure)).not.toContain(auth.user.email);
    expect(errorCode(await app.gql(LOGIN, { email: auth.user.email, password: NEW_PASSWORD }))).toBeUndefined();
  } finally {
    await app.close();
    await refusing.close();
  }
});

test("ACCOUNT_NOTICES=false sends none: the deployment notifies its users itself", async () => {
  const receiver = await startSmtpReceiver();
  const app = await startTestApp({ SMTP_URL: receiver.url, FRONTEND_URL: FRONTEND, ACCOUNT_NOTICES: "false" });
  try {
    const auth = await register(app);
    expect((await app.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: NEW_PASSWORD }, { token: auth.accessToken })).data).toEqual({ changePassword: true });
    // The change retired the access token it was made with.
    const { accessToken } = await signIn(app, auth.user.email, NEW_PASSWORD);
    // An address change: no notice, so no link to undo it, and nothing holds the deletion back.
    const movedTo = uniqueEmail("moved");
    await app.gql(`mutation($email: String!, $password: String!) { requestEmailChange(newEmail: $email, password: $password) }`, { email: movedTo, password: NEW_PASSWORD }, { token: accessToken });
    const link = await receiver.waitForMail(movedTo, (mail) => mail.text.includes("verify-email?token="));
    const token = /verify-email\?token=([\w-]+)/.exec(link.text)![1]!;
    expect((await app.gql(`mutation($token: String!) { verifyEmail(token: $token) { email } }`, { token })).data).toEqual({ verifyEmail: { email: movedTo } });
    const moved = await signIn(app, movedTo, NEW_PASSWORD);
    expect(errorCode(await app.gql(LOGIN, { email: movedTo, password: NEW_PASSWORD }, { headers: { "user-agent": FIREFOX_LINUX } }))).toBeUndefined();
    expect((await app.gql(DELETE_ACCOUNT, { password: NEW_PASSWORD }, { token: moved.accessToken })).data).toEqual({ deleteAccount: true });
    // Emails still go: a reset link asked for after them arrives, and a notice sent would have come first.
    const other = await register(app);
    await app.gql(REQUEST_RESET, { email: other.user.email });
    await receiver.waitForMail(other.user.email, (mail) => mail.text.includes("reset-password?token="));
    expect(receiver.mails.filter((mail) => [PASSWORD_CHANGED, ACCOUNT_DELETED, "Your email address was changed", NEW_SIGN_IN].includes(mail.subject))).toEqual([]);
  } finally {
    await app.close();
    await receiver.close();
  }
});

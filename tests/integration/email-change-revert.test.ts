import { eq } from "drizzle-orm";
import { PURGE_GRACE_MS } from "../../src/auth/sessions";
import { emailChanges, users } from "../../src/db/schema";
import { captureLogs } from "../helpers/log-capture";
import { startSmtpReceiver, type SmtpReceiver } from "../helpers/smtp-receiver";
import { AUTH_FIELDS, during, errorCode, register, registerVerified, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type TestApp } from "../helpers/test-app";

const FRONTEND = "http://frontend.test/account";
const REQUEST_CHANGE = `mutation($email: String!, $password: String!) { requestEmailChange(newEmail: $email, password: $password) }`;
const VERIFY = `mutation($token: String!) { verifyEmail(token: $token) { id email } }`;
const REVERT = `mutation($token: String!, $password: String!) { revertEmailChange(token: $token, newPassword: $password) }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken } }`;
const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`;
const DELETE_ACCOUNT = `mutation($password: String!) { deleteAccount(password: $password) }`;
const ME = `{ me { id email emailVerified } }`;
const OWNERS_PASSWORD = "owner-takes-it-back-7";
const THIEFS_PASSWORD = "thief-keeps-it-now-3";
const client = { ip: null, userAgent: null, requestId: null };

const logs = captureLogs();
let smtp: SmtpReceiver;
let t: TestApp;
// The app's clock runs this far ahead: a test that moves it puts it back.
let clockOffsetMs = 0;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  t = await startTestApp({ SMTP_URL: smtp.url, FRONTEND_URL: FRONTEND }, { logger: logs.logger, now: () => new Date(Date.now() + clockOffsetMs) });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

const login = (email: string, password: string) => t.gql<{ login: AuthPayload }>(LOGIN, { email, password });
const revert = (token: string, password = OWNERS_PASSWORD) => t.gql(REVERT, { token, password });

/** The token of the `skip`-th link of `path` emailed to `to`. */
async function tokenFromMail(to: string, path: "verify-email" | "revert-email", skip = 0): Promise<string> {
  const pattern = new RegExp(`${FRONTEND}/${path}\\?token=([A-Za-z0-9_-]+)`);
  const mail = await smtp.waitForMail(to, (m) => pattern.test(m.text) && smtp.mails.filter((x) => x.to.includes(to) && pattern.test(x.text)).indexOf(m) === skip);
  return pattern.exec(mail.text)![1]!;
}

/**
 * Moves the account of `auth` (currently at `from`) to a new address, as whoever holds its
 * session and password may; returns the new address and the revert token mailed to `from`.
 */
async function moveAccount(auth: AuthPayload, from: string, password = STRONG_PASSWORD): Promise<{ to: string; revertToken: string; accessToken: string }> {
  const to = uniqueEmail("taken-over");
  const earlierNotices = smtp.mails.filter((m) => m.to.includes(from) && m.text.includes("/revert-email?token=")).length;
  expect((await t.gql(REQUEST_CHANGE, { email: to, password }, { token: auth.accessToken })).data).toEqual({ requestEmailChange: true });
  expect((await t.gql(VERIFY, { token: await tokenFromMail(to, "verify-email") })).data?.verifyEmail.email).toBe(to);
  // The change retired the access token; the session goes on.
  const accessToken = (await t.gql(REFRESH, { token: auth.refreshToken })).data!.refreshToken.accessToken as string;
  auth.accessToken = accessToken;
  auth.refreshToken = (await login(to, password)).data!.login.refreshToken;
  return { to, revertToken: await tokenFromMail(from, "revert-email", earlierNotices), accessToken };
}

test("the notice to the old address carries a link that takes the account back: that address, verified, a new password, and every session ended", async () => {
  const auth = await registerVerified(t);
  const owner = auth.user.email;
  const otherDevice = (await login(owner, STRONG_PASSWORD)).data!.login;
  const { to: thief, revertToken } = await moveAccount(auth, owner);

  const notice = smtp.mails.find((m) => m.to.includes(owner) && m.subject === "Your email address was changed")!;
  expect(notice.text).toContain(`moved to ${thief[0]}***@example.com on `);
  expect(notice.text.replace(/\r\n/g, "\n")).toContain(`${FRONTEND}/revert-email?token=${revertToken}\n\nThis link is valid for 3 days and works once.`);
  expect(notice.html).toContain(`href="${FRONTEND}/revert-email?token=${revertToken}"`);

  // A password the policy refuses is refused on its field, and spends nothing.
  expect((await revert(revertToken, "short")).errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "newPassword" });
  expect((await revert(revertToken)).data).toEqual({ revertEmailChange: true });
  expect(errorCode(await revert(revertToken))).toBe("INVALID_TOKEN");

  // The old address signs in with the new password only; the thief's address not at all.
  expect(errorCode(await login(owner, STRONG_PASSWORD))).toBe("UNAUTHENTICATED");
  expect(errorCode(await login(thief, STRONG_PASSWORD))).toBe("UNAUTHENTICATED");
  const back = (await login(owner, OWNERS_PASSWORD)).data!.login;
  expect((await t.gql(ME, {}, { token: back.accessToken })).data?.me).toEqual({ id: auth.user.id, email: owner, emailVerified: true });
  // Every session from before is over, the thief's and the owner's alike.
  for (const session of [auth, otherDevice]) {
    expect(errorCode(await t.gql(ME, {}, { token: session.accessToken }))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(REFRESH, { token: session.refreshToken }))).toBeDefined();
  }

  // The address it left is told, without a link; the log names the account, not the addresses.
  const told = await smtp.waitForMail(thief, (m) => m.subject === "Your email address was changed back");
  expect(told.text).toMatch(/was given back the address it had before on \d{4}-\d{2}-\d{2} at \d{2}:\d{2} UTC/);
  expect(told.text + told.html).not.toMatch(/https?:|token=/);
  const event = logs.records().find((r) => r.event === "email_change_reverted" && r.userId === auth.user.id);
  expect(event).toBeDefined();
  expect(JSON.stringify(event)).not.toMatch(new RegExp(`${owner}|${thief}`));
});

test("the link outlives a password the thief changed after the move", async () => {
  const auth = await registerVerified(t);
  const owner = auth.user.email;
  const { to: thief, revertToken, accessToken } = await moveAccount(auth, owner);
  expect((await t.gql(CHANGE_PASSWORD, { current: STRONG_PASSWORD, next: THIEFS_PASSWORD }, { token: accessToken })).data).toEqual({ changePassword: true });

  expect((await revert(revertToken)).data).toEqual({ revertEmailChange: true });
  expect(errorCode(await login(thief, THIEFS_PASSWORD))).toBe("UNAUTHENTICATED");
  expect(errorCode(await login(owner, THIEFS_PASSWORD))).toBe("UNAUTHENTICATED");
  expect((await login(owner, OWNERS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
});

describe("after two moves (owner → first → second), each address left holds a link", () => {
  async function twoMoves() {
    const auth = await registerVerified(t);
    const owner = auth.user.email;
    const first = await moveAccount(auth, owner);
    const second = await moveAccount(auth, first.to);
    return { auth, owner, first, second };
  }

  test("the owner's link closes the later one: whoever holds it cannot undo the owner's revert", async () => {
    const { owner, first, second } = await twoMoves();
    expect((await revert(first.revertToken)).data).toEqual({ revertEmailChange: true });
    expect(errorCode(await revert(second.revertToken, THIEFS_PASSWORD))).toBe("INVALID_TOKEN");
    expect(errorCode(await login(first.to, THIEFS_PASSWORD))).toBe("UNAUTHENTICATED");
    expect(errorCode(await login(owner, OWNERS_PASSWORD))).toBeUndefined();
  });

  test("a later link spent first does not close the owner's", async () => {
    const { auth, owner, first, second } = await twoMoves();
    expect((await revert(second.revertToken, THIEFS_PASSWORD)).data).toEqual({ revertEmailChange: true });
    expect((await login(first.to, THIEFS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
    expect((await revert(first.revertToken)).data).toEqual({ revertEmailChange: true });
    expect(errorCode(await login(first.to, THIEFS_PASSWORD))).toBe("UNAUTHENTICATED");
    expect((await login(owner, OWNERS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
  });

  test("raced, both links: whichever commits first, the account ends at the owner's address", async () => {
    const { auth, owner, first, second } = await twoMoves();
    const answers = await Promise.all([revert(second.revertToken, THIEFS_PASSWORD), revert(first.revertToken)]);
    expect(answers[1]!.data).toEqual({ revertEmailChange: true });
    expect((await login(owner, OWNERS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
  });
});

test("raced, one link: exactly one revert spends it", async () => {
  const auth = await registerVerified(t);
  const { revertToken } = await moveAccount(auth, auth.user.email);
  const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => revert(revertToken, `${OWNERS_PASSWORD}-${i}`)));
  expect(answers.filter((answer) => answer.data?.revertEmailChange === true)).toHaveLength(1);
  expect(answers.map(errorCode).filter((code) => code === "INVALID_TOKEN")).toHaveLength(3);
});

test("a use of the link that lost the race cannot close a change made after the winner's revert", async () => {
  const auth = await registerVerified(t);
  const owner = auth.user.email;
  const { revertToken } = await moveAccount(auth, owner);
  // While a first use of the link hashes its password, a second one spends it, and the owner
  // moves the account on (a change with a link of its own, which the first use must leave open).
  let movedOn: Awaited<ReturnType<typeof moveAccount>> | undefined;
  during(t, "hash", async () => {
    expect((await revert(revertToken)).data).toEqual({ revertEmailChange: true });
    movedOn = await moveAccount((await login(owner, OWNERS_PASSWORD)).data!.login, owner, OWNERS_PASSWORD);
  });
  expect(errorCode(await revert(revertToken, THIEFS_PASSWORD))).toBe("INVALID_TOKEN");
  expect((await login(movedOn!.to, OWNERS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
  expect((await revert(movedOn!.revertToken)).data).toEqual({ revertEmailChange: true });
});

test("while its link works, the address the account left is kept for it: registering it, or moving another account to it, is EMAIL_TAKEN", async () => {
  // Another account asked for the address while it was free: its link is still live when the owner leaves it.
  const address = uniqueEmail("contested");
  const other = await registerVerified(t);
  expect((await t.gql(REQUEST_CHANGE, { email: address, password: STRONG_PASSWORD }, { token: other.accessToken })).data).toEqual({ requestEmailChange: true });
  const earlierLink = await tokenFromMail(address, "verify-email");
  const auth = await registerVerified(t, { email: address });
  const { revertToken } = await moveAccount(auth, address);

  // Else whoever moved the account could take the address, and leave the owner's link nothing to restore.
  expect(errorCode(await t.gql(REGISTER, { input: { email: address, password: STRONG_PASSWORD } }))).toBe("EMAIL_TAKEN");
  await expect(t.app.services.userAdmin.provisionAdmin(address, STRONG_PASSWORD)).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringContaining("can still take it back") });
  expect(errorCode(await t.gql(VERIFY, { token: earlierLink }))).toBe("EMAIL_TAKEN");
  expect((await t.gql(REQUEST_CHANGE, { email: address, password: STRONG_PASSWORD }, { token: other.accessToken })).errors?.[0]?.extensions).toEqual({ code: "EMAIL_TAKEN", field: "newEmail" });

  expect((await revert(revertToken)).data).toEqual({ revertEmailChange: true });
  expect((await login(address, OWNERS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
});

test("the account itself may move back to the address it left (a change of mind)", async () => {
  const auth = await registerVerified(t);
  const owner = auth.user.email;
  const { accessToken } = await moveAccount(auth, owner);
  const earlierLinks = smtp.mails.filter((m) => m.to.includes(owner) && m.text.includes("/verify-email?token=")).length;
  expect((await t.gql(REQUEST_CHANGE, { email: owner, password: STRONG_PASSWORD }, { token: accessToken })).data).toEqual({ requestEmailChange: true });
  expect((await t.gql(VERIFY, { token: await tokenFromMail(owner, "verify-email", earlierLinks) })).data?.verifyEmail.email).toBe(owner);
  expect((await login(owner, STRONG_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
});

test("should another account hold the address all the same (a row written by hand), the revert is EMAIL_TAKEN and writes nothing; the link works once it is free", async () => {
  const auth = await registerVerified(t);
  const owner = auth.user.email;
  const { to: thief, revertToken } = await moveAccount(auth, owner);
  const [squatter] = await t.app.database.db.insert(users).values({ email: owner, passwordHash: "written by hand" }).returning({ id: users.id });

  expect((await revert(revertToken)).errors?.[0]?.extensions).toEqual({ code: "EMAIL_TAKEN", field: "token" });
  expect((await login(thief, STRONG_PASSWORD)).data?.login.user.id).toBe(auth.user.id);

  await t.app.database.db.delete(users).where(eq(users.id, squatter!.id));
  expect((await revert(revertToken)).data).toEqual({ revertEmailChange: true });
  expect((await login(owner, OWNERS_PASSWORD)).data?.login.user.id).toBe(auth.user.id);
});

test("an unknown or expired link, or one of an account deactivated since, is INVALID_TOKEN and changes nothing", async () => {
  expect(errorCode(await revert("not-a-token-we-ever-sent"))).toBe("INVALID_TOKEN");

  const expiring = await registerVerified(t);
  const { to: expiredAt, revertToken: expired } = await moveAccount(expiring, expiring.user.email);
  clockOffsetMs = 259_200_000 + 1000;
  try {
    expect(errorCode(await revert(expired))).toBe("INVALID_TOKEN");
    // The address it left is free again.
    expect(errorCode(await t.gql(REGISTER, { input: { email: expiring.user.email, password: STRONG_PASSWORD } }))).toBeUndefined();
  } finally {
    clockOffsetMs = 0;
  }
  expect((await login(expiredAt, STRONG_PASSWORD)).data?.login.user.id).toBe(expiring.user.id);

  const deactivated = await registerVerified(t);
  const { revertToken } = await moveAccount(deactivated, deactivated.user.email);
  const admin = await t.app.services.userAdmin.provisionAdmin(uniqueEmail("admin"), STRONG_PASSWORD);
  await t.app.services.userAdmin.setActive(admin.user.id, deactivated.user.id, false, client);
  expect(errorCode(await revert(revertToken))).toBe("INVALID_TOKEN");
  await t.app.services.userAdmin.setActive(admin.user.id, deactivated.user.id, true, client);
  expect((await revert(revertToken)).data).toEqual({ revertEmailChange: true });
});

test("a change away from an address never verified sends it no link and keeps nothing for it: whoever reads it never proved it theirs", async () => {
  // A typo at sign-up, on a domain someone else holds; the owner moves the account to the right address.
  const auth = await register(t);
  const mistyped = auth.user.email;
  const to = uniqueEmail("corrected");
  expect((await t.gql(REQUEST_CHANGE, { email: to, password: STRONG_PASSWORD }, { token: auth.accessToken })).data).toEqual({ requestEmailChange: true });
  expect((await t.gql(VERIFY, { token: await tokenFromMail(to, "verify-email") })).data?.verifyEmail.email).toBe(to);

  // No change is recorded, so the address is free at once and the owner may delete the account.
  expect(await t.app.database.db.select().from(emailChanges).where(eq(emailChanges.userId, auth.user.id))).toEqual([]);
  expect(errorCode(await t.gql(REGISTER, { input: { email: mistyped, password: STRONG_PASSWORD } }))).toBeUndefined();
  // The address got the first account's verification link and then the new one's, and nothing between them.
  await tokenFromMail(mistyped, "verify-email", 1);
  const subjects = smtp.mails.filter((m) => m.to.includes(mistyped)).map((m) => m.subject);
  expect(subjects).toHaveLength(2);
  expect(subjects[0]).toBe(subjects[1]);
});

test("making the account an ADMIN closes its take-back links: the address it left is no way into an admin account", async () => {
  const admin = await t.app.services.userAdmin.provisionAdmin(uniqueEmail("admin"), STRONG_PASSWORD);
  const promoted = await registerVerified(t);
  const { to, revertToken } = await moveAccount(promoted, promoted.user.email);
  await t.app.services.userAdmin.setRole(admin.user.id, promoted.user.id, "ADMIN", client);
  expect(errorCode(await revert(revertToken))).toBe("INVALID_TOKEN");
  expect((await login(to, STRONG_PASSWORD)).data?.login.user).toMatchObject({ id: promoted.user.id, role: "ADMIN" });
  // Nothing keeps the address it left any more.
  expect(errorCode(await t.gql(REGISTER, { input: { email: promoted.user.email, password: STRONG_PASSWORD } }))).toBeUndefined();

  // create-admin's promotion too.
  const provisioned = await registerVerified(t);
  const moved = await moveAccount(provisioned, provisioned.user.email);
  expect((await t.app.services.userAdmin.provisionAdmin(moved.to, STRONG_PASSWORD)).outcome).toBe("promoted");
  expect(errorCode(await revert(moved.revertToken))).toBe("INVALID_TOKEN");
  expect((await login(moved.to, STRONG_PASSWORD)).data?.login.user).toMatchObject({ id: provisioned.user.id, role: "ADMIN" });
});

test("a change is kept while its link may be spent, and deleted once that link expired a day ago (the purge's grace)", async () => {
  const auth = await registerVerified(t);
  await moveAccount(auth, auth.user.email);
  const changes = () => t.app.database.db.select().from(emailChanges).where(eq(emailChanges.userId, auth.user.id));
  const [change] = await changes();
  const expiry = change!.revertExpiresAt.getTime();
  expect(expiry - change!.changedAt.getTime()).toBe(259_200_000);

  await t.app.services.users.purgeExpiredEmailChanges(new Date(expiry + PURGE_GRACE_MS - 1000));
  expect(await changes()).toHaveLength(1);
  expect(await t.app.services.users.purgeExpiredEmailChanges(new Date(expiry + PURGE_GRACE_MS + 1000))).toBeGreaterThanOrEqual(1);
  expect(await changes()).toEqual([]);
});

test("while the change can be undone the account cannot be deleted (its mover knows the password); once taken back, or past the link, it can", async () => {
  const moved = await registerVerified(t);
  const { to, accessToken } = await moveAccount(moved, moved.user.email);
  const refused = await t.gql(DELETE_ACCOUNT, { password: STRONG_PASSWORD }, { token: accessToken });
  expect(refused.errors?.[0]?.extensions).toEqual({ code: "FORBIDDEN" });
  expect(refused.errors?.[0]?.message).toMatch(/can undo that until \d{4}-\d{2}-\d{2} at \d{2}:\d{2} UTC/);
  expect((await login(to, STRONG_PASSWORD)).data?.login.user.id).toBe(moved.user.id);

  clockOffsetMs = 259_200_000 + 1000;
  try {
    const later = (await login(to, STRONG_PASSWORD)).data!.login;
    expect((await t.gql(DELETE_ACCOUNT, { password: STRONG_PASSWORD }, { token: later.accessToken })).data).toEqual({ deleteAccount: true });
  } finally {
    clockOffsetMs = 0;
  }

  const takenBack = await registerVerified(t);
  const { revertToken } = await moveAccount(takenBack, takenBack.user.email);
  await revert(revertToken);
  const owner = (await login(takenBack.user.email, OWNERS_PASSWORD)).data!.login;
  expect((await t.gql(DELETE_ACCOUNT, { password: OWNERS_PASSWORD }, { token: owner.accessToken })).data).toEqual({ deleteAccount: true });
});

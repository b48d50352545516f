import type { Page } from "playwright-core";
import { AUTH_FIELDS, STRONG_PASSWORD } from "../helpers/test-app";
import { blockSiteData, focused, launchBrowser, screenshot, signIn as signInAt, type Browser } from "./helpers/browser";
import { startService, type Service } from "./helpers/service";

// The hosted pages as people use them: a real Chromium against the real service, links taken
// from the emails the service really sent, with the refresh token in its HttpOnly cookie.

const NEW_PASSWORD = "lantern-meadow-copper-7";

let service: Service;
let laptop: Browser;
let phone: Browser;

beforeAll(async () => {
  service = await startService({ REFRESH_TOKEN_COOKIE: "true" });
  laptop = await launchBrowser();
  phone = await launchBrowser({ viewport: { width: 390, height: 760 } });
});
afterAll(async () => {
  await laptop?.close();
  await phone?.close();
  await service?.close();
});
afterEach(() => {
  // A CSP violation, a failed asset or an uncaught exception is logged as an error by Chromium.
  expect(laptop.errors).toEqual([]);
  expect(phone.errors).toEqual([]);
});

const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name }).waitFor();

/** Signs out from the header, and lands on the sign-in page. */
async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading(page, "Sign in");
}

/** The error shown under the field named `name`, once it shows. */
async function fieldError(page: Page, name: string): Promise<string> {
  const error = page.locator(`#field-${name}-error`);
  await error.waitFor();
  return error.innerText();
}
const alertText = (page: Page) => page.getByRole("alert").innerText();

/** An account made through the API, to start a journey from. */
const registerAccount = (email: string, name?: string) =>
  service.t.gql(`mutation($e: String!, $p: String!, $n: String) { register(input: { email: $e, password: $p, name: $n }) { user { id } } }`, { e: email, p: NEW_PASSWORD, n: name });

/** A new tab on the laptop, signed in to a new account, on its profile. */
async function signedInTab(email: string): Promise<Page> {
  await registerAccount(email);
  const page = await laptop.newPage();
  await signIn(page, email, NEW_PASSWORD);
  await heading(page, "Your profile");
  return page;
}

/** Errors a test caused on purpose (an aborted request), taken out before afterEach checks for none. */
function forgiveLaptopErrors(pattern: RegExp) {
  laptop.errors.splice(0, laptop.errors.length, ...laptop.errors.filter((e) => !pattern.test(e)));
}

const signIn = (page: Page, email: string, password: string) => signInAt(page, service.pages, email, password);

test("sign up, confirm the address from the email, sign in elsewhere, see profile and sessions, change the password, sign out", async () => {
  const email = "ada@example.com";
  const page = await laptop.newPage();

  await page.goto(`${service.pages}/`);
  await heading(page, "Sign in");
  expect(new URL(page.url()).pathname).toBe("/account/sign-in");
  await screenshot(page, "sign-in");

  await page.getByRole("link", { name: "Create an account" }).click();
  await heading(page, "Create an account");
  expect(await focused(page)).toBe("H1:Create an account");
  await page.getByLabel("Name (optional)").fill("Ada Lovelace");
  await page.getByLabel("Email address").fill(email);
  // A refused password: the service's reason is shown on the field, which takes the focus.
  await page.getByLabel("Password", { exact: true }).fill("password123");
  await page.getByRole("button", { name: "Create account" }).click();
  expect(await fieldError(page, "password")).toMatch(/common/i);
  expect(await page.getByLabel("Password", { exact: true }).getAttribute("aria-invalid")).toBe("true");
  expect(await focused(page)).toBe("INPUT:password");
  // Taking the focus, the field reads its error out with it: an alert as well would say it twice.
  expect(await page.getByLabel("Password", { exact: true }).getAttribute("aria-describedby")).toContain("field-password-error");
  expect(await page.getByRole("alert").count()).toBe(0);
  await screenshot(page, "sign-up-weak-password");

  await page.getByLabel("Password", { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await heading(page, "Your profile");
  expect(await page.getByRole("status").innerText()).toContain(`We sent a link to ${email}`);
  await page.getByText("Not verified").waitFor();
  // Another link, asked for from the profile: the newest is the one opened below.
  await page.getByRole("button", { name: "Send a new link" }).click();
  await page.getByText(`We sent a new link to ${email}.`).waitFor();
  expect(await page.getByRole("button", { name: "Send a new link" }).count()).toBe(0);

  // A mail scanner fetches the link: that must not spend the token.
  const link = await service.linkFromMail(email, "verify-email", 1);
  expect(link.startsWith(`${service.pages}/verify-email?token=`)).toBe(true);
  expect((await fetch(link)).status).toBe(200);

  // The link opened on a phone: the button spends the token, and only once.
  const phonePage = await phone.newPage();
  await phonePage.goto(link);
  await heading(phonePage, "Confirm your email address");
  await phonePage.reload();
  await heading(phonePage, "Confirm your email address");
  await screenshot(phonePage, "verify-email");
  await phonePage.getByRole("button", { name: "Confirm my email address" }).click();
  await heading(phonePage, "Email address confirmed");
  expect(new URL(phonePage.url()).search).toBe("");
  await phonePage.goto(link);
  await phonePage.getByRole("button", { name: "Confirm my email address" }).click();
  expect(await alertText(phonePage)).toContain("This link is invalid, has expired or has already been used.");

  // The laptop's profile learns it on its next load.
  await page.reload();
  await page.getByText("Verified", { exact: true }).waitFor();

  await signIn(phonePage, email, "not-my-password");
  expect(await alertText(phonePage)).toBe("The email address or the password is not right.");
  await phonePage.getByLabel("Password", { exact: true }).fill(STRONG_PASSWORD);
  await phonePage.getByRole("button", { name: "Sign in" }).click();
  await heading(phonePage, "Your profile");
  expect(await focused(phonePage)).toBe("H1:Your profile");
  await phonePage.getByText("Ada Lovelace").waitFor();
  await phonePage.getByText("Verified", { exact: true }).waitFor();
  await screenshot(phonePage, "profile-phone");
  await page.reload();
  await heading(page, "Your profile");
  await screenshot(page, "profile");

  await phonePage.getByRole("link", { name: "Sessions" }).click();
  await heading(phonePage, "Where you are signed in");
  const sessions = phonePage.getByRole("list", { name: "Sessions" }).getByRole("listitem");
  await sessions.nth(1).waitFor();
  expect(await sessions.count()).toBe(2);
  expect(await phonePage.getByText("This device").count()).toBe(1);
  await page.getByRole("link", { name: "Sessions" }).click();
  await heading(page, "Where you are signed in");
  await page.getByRole("list", { name: "Sessions" }).getByRole("listitem").nth(1).waitFor();
  await screenshot(page, "sessions");

  // The phone ends the laptop's session: the laptop's next request finds it over.
  await phonePage.getByRole("button", { name: /^Sign out Chrome/ }).click();
  expect(await phonePage.getByRole("status").innerText()).toMatch(/^Signed out/);
  expect(await sessions.count()).toBe(1);
  await page.getByRole("link", { name: "Profile" }).click();
  await heading(page, "Sign in");

  await phonePage.getByRole("link", { name: "Password" }).click();
  await heading(phonePage, "Change your password");
  await phonePage.getByLabel("Current password").fill("not-my-password");
  await phonePage.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await phonePage.getByRole("button", { name: "Change password" }).click();
  expect(await fieldError(phonePage, "currentPassword")).toBe("Current password is incorrect");
  expect(await focused(phonePage)).toBe("INPUT:currentPassword");
  await phonePage.getByLabel("Current password").fill(STRONG_PASSWORD);
  await phonePage.getByRole("button", { name: "Change password" }).click();
  expect(await phonePage.getByRole("status").innerText()).toContain("Your password is changed");
  await screenshot(phonePage, "change-password");
  // Still signed in: the page refreshed the access token the change retired.
  await phonePage.getByRole("link", { name: "Profile" }).click();
  await phonePage.getByText("Ada Lovelace").waitFor();

  await signOut(phonePage);
  expect(await phonePage.getByRole("status").innerText()).toBe("You are signed out.");
  // The cookie went with the session: a reload stays signed out.
  await phonePage.reload();
  await heading(phonePage, "Sign in");

  await signIn(phonePage, email, STRONG_PASSWORD);
  expect(await alertText(phonePage)).toBe("The email address or the password is not right.");
  await phonePage.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await phonePage.getByRole("button", { name: "Sign in" }).click();
  await heading(phonePage, "Your profile");
  await phonePage.close();
  await page.close();
});

test("delete the account: a wrong password is named on its field, the right one deletes it and signs out, and the address may sign up again", async () => {
  const email = "leaving@example.com";
  const page = await signedInTab(email);
  await page.getByRole("link", { name: "Delete your account" }).click();
  await heading(page, "Delete your account");

  await page.getByLabel("Your password, to confirm").fill("not-the-password-at-all");
  await page.getByRole("button", { name: "Delete my account" }).click();
  expect(await fieldError(page, "password")).toBe("Password is incorrect");
  expect(await focused(page)).toBe("INPUT:password");
  await screenshot(page, "delete-account");

  await page.getByLabel("Your password, to confirm").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await heading(page, "Sign in");
  expect(await page.getByRole("status").innerText()).toBe("Your account is deleted.");
  // Its cookie went with its sessions: a reload stays signed out, and the account is gone.
  await page.reload();
  await heading(page, "Sign in");
  await signIn(page, email, NEW_PASSWORD);
  expect(await alertText(page)).toBe("The email address or the password is not right.");
  expect((await registerAccount(email)).data?.register.user.id).toEqual(expect.any(String));
  await page.close();
});

test("edit the profile: a refused name is named on its field, and the saved one shows on the profile at once and after a reload", async () => {
  const page = await signedInTab("renamed@example.com");
  await page.getByRole("link", { name: "Edit your profile" }).click();
  await heading(page, "Edit your profile");
  const name = page.getByLabel("Name");
  await name.fill("Ada\u202Eevil");
  await page.getByRole("button", { name: "Save" }).click();
  expect(await fieldError(page, "name")).toBe("Name must not contain invisible or text-direction characters");
  expect(await focused(page)).toBe("INPUT:name");
  await screenshot(page, "edit-profile");
  await name.fill("Katherine Johnson");

  await page.getByRole("button", { name: "Save" }).click();
  await heading(page, "Your profile");
  expect(await page.getByRole("status").innerText()).toBe("Your profile is saved.");
  await page.getByText("Katherine Johnson").waitFor();
  await page.reload();
  await heading(page, "Your profile");
  await page.getByText("Katherine Johnson").waitFor();
  // The journeys after this one start signed out in this browser.
  await signOut(page);
  await page.close();
});

test("change the email address: a change asked for shows on the profile and can be cancelled; a wrong password is named on its field; the link sent to the new address makes the change, and the profile shows it", async () => {
  const email = "moving@example.com";
  const newEmail = "moved@example.com";
  const page = await signedInTab(email);
  await page.getByRole("link", { name: "Change your email address" }).click();
  await heading(page, "Change your email address");

  // A mistyped address: the profile shows the change waiting for its link, and cancels it.
  const typo = "mvoed@example.com";
  await page.getByLabel("New email address").fill(typo);
  await page.getByLabel("Your password, to confirm").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.getByRole("status").waitFor();
  await page.goto(`${service.pages}/profile`);
  await page.getByText(`We sent a link to ${typo}: once it is opened there, that becomes your email address. Until then your address stays ${email}.`).waitFor();
  await page.getByRole("button", { name: "Cancel the change" }).click();
  expect(await page.getByRole("status").innerText()).toBe("The change is cancelled: the link we sent no longer works.");
  expect(await page.getByRole("button", { name: "Cancel the change" }).count()).toBe(0);
  await page.goto(await service.linkFromMail(typo, "verify-email"));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  expect(await alertText(page)).toContain("This link is invalid, has expired or has already been used.");
  expect(await alertText(page)).toContain("Only the newest link we sent works.");

  await page.goto(`${service.pages}/change-email`);
  await heading(page, "Change your email address");
  await page.getByLabel("New email address").fill(newEmail);
  await page.getByLabel("Your password, to confirm").fill("not-the-password-at-all");
  await page.getByRole("button", { name: "Send the link" }).click();
  expect(await fieldError(page, "password")).toBe("Password is incorrect");

  await page.getByLabel("Your password, to confirm").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Send the link" }).click();
  expect(await page.getByRole("status").innerText()).toBe(`We sent a link to ${newEmail}. Open it to make that your address; until then it stays ${email}.`);
  await screenshot(page, "change-email");

  // Opened in the same browser: the page confirms, and the profile reads the account anew.
  await page.goto(await service.linkFromMail(newEmail, "verify-email"));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await heading(page, "Email address confirmed");
  expect(await page.getByRole("status").innerText()).toBe(`Thank you: ${newEmail} is confirmed.`);
  await page.getByRole("link", { name: "Go to your profile" }).click();
  await heading(page, "Your profile");
  await page.getByText(newEmail).waitFor();
  await page.getByText("Verified", { exact: true }).waitFor();
  await signOut(page);
  await signIn(page, email, NEW_PASSWORD);
  expect(await alertText(page)).toBe("The email address or the password is not right.");
  await signIn(page, newEmail, NEW_PASSWORD);
  await heading(page, "Your profile");
  await signOut(page);
  await page.close();
});

test("take the account back: the notice to the old address links to a page that restores it with a new password and signs out every session", async () => {
  const email = "undo-owner@example.com";
  const newEmail = "undo-new@example.com";
  const takenBackPassword = "harbour-willow-ember-3";
  const page = await laptop.newPage();
  await page.goto(`${service.pages}/sign-up`);
  await heading(page, "Create an account");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await heading(page, "Your profile");
  await page.goto(await service.linkFromMail(email, "verify-email"));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await heading(page, "Email address confirmed");

  // Someone with the password moves the account to an address of theirs.
  await page.getByRole("link", { name: "Go to your profile" }).click();
  await page.getByRole("link", { name: "Change your email address" }).click();
  await heading(page, "Change your email address");
  await page.getByLabel("New email address").fill(newEmail);
  await page.getByLabel("Your password, to confirm").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.getByRole("status").waitFor();
  await page.goto(await service.linkFromMail(newEmail, "verify-email"));
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await heading(page, "Email address confirmed");

  // Whoever moved it cannot delete it while the change can be undone: the page gives the service's reason.
  await page.goto(`${service.pages}/delete-account`);
  await heading(page, "Delete your account");
  await page.getByLabel("Your password, to confirm").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Delete my account" }).click();
  expect(await alertText(page)).toMatch(
    /^The account's email address was changed recently, and the link sent to the address it had can undo that until \d{4}-\d{2}-\d{2} at \d{2}:\d{2} UTC\. The account can be deleted after that\.$/,
  );

  // The old address is told, with a link that a mail scanner may open without spending it.
  const link = await service.linkFromMail(email, "revert-email");
  expect(link.startsWith(`${service.pages}/revert-email?token=`)).toBe(true);
  expect((await fetch(link)).status).toBe(200);

  // Opened in the browser still signed in to the moved account.
  await page.goto(link);
  await heading(page, "Take back your account");
  expect(new URL(page.url()).search).toBe("");
  await screenshot(page, "revert-email");
  await page.getByLabel("New password", { exact: true }).fill("password1");
  await page.getByRole("button", { name: "Take back my account" }).click();
  expect(await fieldError(page, "newPassword")).toMatch(/common/i);
  expect(await focused(page)).toBe("INPUT:newPassword");
  // A refused password does not spend the link.
  await page.getByLabel("New password", { exact: true }).fill(takenBackPassword);
  await page.getByRole("button", { name: "Take back my account" }).click();
  await heading(page, "Your email address is restored");
  expect(await page.getByRole("status").innerText()).toBe("Your account has the address this link was sent to again. Sign in with it and your new password: every session was signed out.");
  // That was this browser's account: its session ended with the others.
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Create account" }).waitFor();
  expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
  // The address the account left is told it is no longer the account's.
  await service.smtp.waitForMail(newEmail, (mail) => mail.subject === "Your email address was changed back");

  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("another-harbour-willow-4");
  await page.getByRole("button", { name: "Take back my account" }).click();
  expect(await alertText(page)).toContain("This link is invalid, has expired or has already been used");

  await signIn(page, newEmail, takenBackPassword);
  expect(await alertText(page)).toBe("The email address or the password is not right.");
  await signIn(page, email, NEW_PASSWORD);
  expect(await alertText(page)).toBe("The email address or the password is not right.");
  await signIn(page, email, takenBackPassword);
  await heading(page, "Your profile");
  await page.getByText(email).waitFor();
  await page.getByText("Verified", { exact: true }).waitFor();
  await signOut(page);
  await page.close();
});

test("forgot password: the emailed link resets it once, and the new password signs in", async () => {
  const email = "grace@example.com";
  await service.t.gql(`mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
    input: { email, password: STRONG_PASSWORD, name: "Grace Hopper" },
  });
  const page = await laptop.newPage();
  await page.goto(`${service.pages}/sign-in`);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await heading(page, "Reset your password");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  expect(await page.getByRole("status").innerText()).toContain(`If an account exists for ${email}`);
  await screenshot(page, "forgot-password");

  const link = await service.linkFromMail(email, "reset-password");
  expect(link.startsWith(`${service.pages}/reset-password?token=`)).toBe(true);
  await page.goto(link);
  await heading(page, "Choose a new password");
  // The token leaves the address bar, and so the tab's history, as soon as the page has read it:
  // Back on a shared computer must not bring back a form that still works.
  expect(new URL(page.url()).search).toBe("");
  await screenshot(page, "reset-password");
  await page.getByLabel("New password", { exact: true }).fill("password1");
  // Enter leaves the focus on the field the service refuses, so focusing it announces nothing:
  // its error is an alert, announced as it appears.
  await page.getByLabel("New password", { exact: true }).press("Enter");
  expect(await alertText(page)).toMatch(/common/i);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  // Two submits in one task, before the page has re-rendered as busy, send one request.
  const resets: string[] = [];
  page.on("request", (request) => {
    if (/resetPassword/i.test(request.postData() ?? "")) resets.push(request.url());
  });
  await page.locator("form").evaluate((form: { requestSubmit(): void }) => {
    form.requestSubmit();
    form.requestSubmit();
  });
  await heading(page, "Your password is reset");
  expect(resets).toHaveLength(1);

  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("another-lantern-meadow-8");
  await page.getByRole("button", { name: "Set the new password" }).click();
  expect(await alertText(page)).toContain("This reset link is invalid, has expired or has already been used.");
  await page.getByRole("link", { name: "Ask for a new link" }).waitFor();

  await signIn(page, email, NEW_PASSWORD);
  await heading(page, "Your profile");
  await page.getByText("Grace Hopper").waitFor();
  await signOut(page);
  await page.close();
});

test("a sign-out that cannot reach the service says so and stays signed in, then signs out once it can", async () => {
  const page = await signedInTab("grace@example.com");

  await page.route("**/graphql", (route) => (route.request().postDataJSON()?.operationName === "Logout" ? route.abort("connectionrefused") : route.fallback()));
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("We could not reach the service, so you are still signed in. Please try again.").waitFor();
  // The session and its cookie live on: saying "signed out" would leave the account open here.
  await page.reload();
  await heading(page, "Your profile");

  await page.unrouteAll();
  await signOut(page);
  await page.reload();
  await heading(page, "Sign in");
  // Chromium reports the aborted request as a failed load; that one was on purpose.
  forgiveLaptopErrors(/ERR_CONNECTION_REFUSED|Failed to load resource/);
  await page.close();
});

test("a sign-out the service fails to complete says so, and the session and its cookie stay", async () => {
  const page = await signedInTab("logout-fails@example.com");
  const { accounts } = service.t.app.services;
  const logout = accounts.logout;
  accounts.logout = async () => {
    throw new Error("connection terminated");
  };
  try {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("Signing out did not work on our side, so you are still signed in. Please try again in a moment.").waitFor();
  } finally {
    accounts.logout = logout;
  }
  await page.reload();
  await heading(page, "Your profile");
  await signOut(page);
  await page.close();
});

test("a reset link opened while signed in to another account resets that one and leaves this one signed in", async () => {
  const page = await signedInTab("stays-signed-in@example.com");
  const other = "resets-elsewhere@example.com";
  await registerAccount(other);
  await service.t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: other });
  await page.goto(await service.linkFromMail(other, "reset-password"));
  await heading(page, "Choose a new password");
  await page.getByLabel("New password", { exact: true }).fill("copper-lantern-meadow-9");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await heading(page, "Your password is reset");
  await page.goto(`${service.pages}/profile`);
  await heading(page, "Your profile");
  await page.getByText("stays-signed-in@example.com").waitFor();
  await signOut(page);
  await page.close();
});

test("with site data blocked (localStorage throws) the pages still start", async () => {
  const page = await laptop.newPage();
  await blockSiteData(page);
  await page.goto(`${service.pages}/forgot-password`);
  await heading(page, "Reset your password");
  await page.close();
});

test("a refresh that never gets an answer lets go of the other tabs after its timeout", async () => {
  const email = "hung@example.com";
  const first = await signedInTab(email);

  // The first tab's refresh at reload is held (a network that swallowed it) while it holds the
  // cross-tab lock; the second tab's own start-up refresh waits for that lock.
  let hold: () => void;
  const holding = new Promise<void>((resolve) => (hold = resolve));
  let held = false;
  await first.route("**/graphql", (route) => {
    if (held || !/mutation RefreshFromCookie/.test(route.request().postData() ?? "")) return route.fallback();
    held = true;
    hold(); // and never answered
  });
  await first.reload();
  await holding;
  const second = await laptop.newPage();
  await second.goto(`${service.pages}/profile`);
  await heading(second, "Your profile");
  await second.getByText(email).waitFor();
  await first.unrouteAll({ behavior: "ignoreErrors" });
  forgiveLaptopErrors(/Failed to load resource|AbortError|signal timed out/i);
  await signOut(second);
  await first.close();
  await second.close();
});

test("whoever signs in after a session ended in another tab never sees the account before", async () => {
  const [alice, bob] = ["alice@example.com", "bob@example.com"];
  await registerAccount(alice, "Alice Private");
  await registerAccount(bob, "Bob");
  const one = await laptop.newPage();
  await signIn(one, alice, NEW_PASSWORD);
  await heading(one, "Your profile");
  const two = await laptop.newPage();
  await two.goto(`${service.pages}/profile`);
  await two.getByText(alice).waitFor();

  // Alice signs out everywhere in the first tab; the second follows her to the sign-in page.
  await one.getByRole("link", { name: "Sessions" }).click();
  await one.getByRole("button", { name: "Sign out everywhere" }).click();
  await one.getByRole("button", { name: "Yes, sign out everywhere" }).click();
  await heading(two, "Sign in");
  expect(await two.getByRole("status").innerText()).toBe("Your session has ended. Please sign in again.");

  // Bob signs in at the second tab, and his profile does not come (a slow network, say).
  await two.route("**/graphql", (route) => (/query Me\b/.test(route.request().postData() ?? "") ? route.abort("connectionrefused") : route.fallback()));
  await two.getByLabel("Email address").fill(bob);
  await two.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await two.getByRole("button", { name: "Sign in" }).click();
  await heading(two, "Your profile");
  await two.getByRole("alert").waitFor();
  expect(await two.locator("main").innerText()).not.toMatch(/alice|Alice Private/);
  // The tests after this one start signed out.
  await two.unrouteAll();
  await signOut(two);
  forgiveLaptopErrors(/ERR_CONNECTION_REFUSED|Failed to load resource/);
  await one.close();
  await two.close();
});

test("every error code of the contract reads as a sentence a person can act on", async () => {
  const page = await laptop.newPage();

  // EMAIL_TAKEN, on the email field, with the ways out.
  await page.goto(`${service.pages}/sign-up`);
  await page.getByLabel("Email address").fill("ada@example.com");
  await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  expect(await fieldError(page, "email")).toBe("An account with this email address already exists.");
  await page.getByRole("link", { name: "reset your password" }).waitFor();

  // BAD_USER_INPUT on a field: the service's sentence.
  await page.goto(`${service.pages}/forgot-password`);
  await page.getByLabel("Email address").fill("not an address");
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.locator("#field-email-error").waitFor();

  // RATE_LIMITED: the wait from extensions.retryAfter, and a button that counts it down.
  await page.route("**/graphql", (route) =>
    route.request().postDataJSON()?.operationName === "Login"
      ? route.fulfill({
          contentType: "application/json",
          body: JSON.stringify({ data: null, errors: [{ message: "Too many attempts", extensions: { code: "RATE_LIMITED", retryAfter: 90 } }] }),
        })
      : route.fallback(),
  );
  await signIn(page, "ada@example.com", "whatever-it-is");
  expect(await alertText(page)).toBe("Too many attempts. Please wait 90 seconds and try again.");
  const button = page.getByRole("button", { name: /^Try again in \d+ s$/ });
  await button.waitFor();
  expect(await button.getAttribute("aria-disabled")).toBe("true");
  await screenshot(page, "rate-limited");
  await page.unrouteAll();

  // INTERNAL_SERVER_ERROR and an unreachable service.
  await page.route("**/graphql", (route) =>
    route.fulfill({ contentType: "application/json", body: JSON.stringify({ data: null, errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] }) }),
  );
  await page.goto(`${service.pages}/forgot-password`);
  await page.getByLabel("Email address").fill("ada@example.com");
  await page.getByRole("button", { name: "Send the link" }).click();
  expect(await alertText(page)).toBe("Something went wrong on our side. Please try again in a moment.");
  await page.unrouteAll();
  await page.route("**/graphql", (route) => route.abort("connectionrefused"));
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.getByText("We could not reach the service").waitFor();
  await page.unrouteAll();

  // INVALID_TOKEN from a made-up link, and a page without a token.
  await page.goto(`${service.pages}/verify-email?token=made-up-token`);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  expect(await alertText(page)).toContain("This link is invalid, has expired or has already been used.");
  await page.goto(`${service.pages}/reset-password`);
  expect(await alertText(page)).toBe("This page needs the link from the email we sent you.");
  await page.goto(`${service.pages}/revert-email`);
  expect(await alertText(page)).toBe("This page needs the link from the email we sent you.");

  // EMAIL_TAKEN when taking an account back: the address went to another account meanwhile. The
  // service names the token, which no input of the form holds: the form's alert says it.
  await page.route("**/graphql", (route) =>
    route.request().postDataJSON()?.operationName === "RevertEmailChange"
      ? route.fulfill({
          contentType: "application/json",
          body: JSON.stringify({ data: null, errors: [{ message: "An account with this email already exists", extensions: { code: "EMAIL_TAKEN", field: "token" } }] }),
        })
      : route.fallback(),
  );
  await page.goto(`${service.pages}/revert-email?token=made-up-token`);
  await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Take back my account" }).click();
  expect(await alertText(page)).toBe("Another account now uses this address, so it cannot be given back to yours. Please contact the people who run this service.");
  await page.unrouteAll();

  await page.goto(`${service.pages}/no-such-page`);
  await heading(page, "Page not found");
  // Chromium reports the aborted request above as a failed load; that one was on purpose.
  forgiveLaptopErrors(/ERR_CONNECTION_REFUSED|Failed to load resource/);
  await page.close();
});

test("the pages work with the keyboard alone", async () => {
  const page = await laptop.newPage();
  await page.goto(`${service.pages}/sign-in`);
  await heading(page, "Sign in");
  // The page's heading has the focus; the next Tab is the first input.
  expect(await focused(page)).toBe("H1:Sign in");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("INPUT:email");
  await page.keyboard.type("ada@example.com");
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("INPUT:password");
  await page.keyboard.type(NEW_PASSWORD);
  await page.keyboard.press("Tab");
  expect(await focused(page)).toBe("BUTTON:Show password");
  await page.keyboard.press("Enter");
  expect(await page.getByLabel("Password", { exact: true }).getAttribute("type")).toBe("text");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await heading(page, "Your profile");
  expect(await focused(page)).toBe("H1:Your profile");
  await page.getByRole("button", { name: "Sign out" }).focus();
  await page.keyboard.press("Enter");
  await heading(page, "Sign in");
  await page.close();
});

test("the pages are served with a strict CSP, and the API answers them", async () => {
  const res = await fetch(`${service.pages}/sign-in`);
  expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'self'/);
  const login = await service.t.gql(`mutation { login(input: { email: "ada@example.com", password: "${NEW_PASSWORD}" }) { ${AUTH_FIELDS} } }`);
  expect(login.headers.getSetCookie().some((c) => /^refresh_token=.+HttpOnly/.test(c))).toBe(true);
});

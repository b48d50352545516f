import { blockSiteData, launchBrowser, signIn, type Browser } from "./helpers/browser";
import { startService, type Service } from "./helpers/service";
import { register, STRONG_PASSWORD } from "../helpers/test-app";

// A scheduled refresh whose answer is lost after the service rotated the token: the tab's retry
// presents the previous token, which the service takes as a retry only within
// REFRESH_TOKEN_REUSE_INTERVAL (10 s, the default here) of the rotation. Later, it is theft.
// The token is kept in localStorage here: playwright's route.fetch() would store a cookie the
// lost answer set, which the browser then never lost.

const ACCESS_TOKEN_TTL = 10;

let service: Service;
let browser: Browser;
beforeAll(async () => {
  service = await startService({ REFRESH_TOKEN_COOKIE: "false", ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
});

test("a refresh whose answer was lost is retried within the reuse interval, and the session goes on", async () => {
  const email = "lost-answer@example.com";
  await register(service.t, { email });
  const page = await browser.newPage();
  await signIn(page, service.pages, email, STRONG_PASSWORD);
  await page.getByRole("heading", { level: 1, name: "Your profile" }).waitFor();

  // The first scheduled refresh reaches the service, which rotates the token; its answer never
  // comes back, and the tab gives up after its 8 s timeout.
  let swallowed = false;
  const answers: boolean[] = [];
  await page.route("**/graphql", async (route) => {
    if (!/mutation Refresh\(/.test(route.request().postData() ?? "")) return route.fallback();
    const response = await route.fetch();
    if (!swallowed) {
      swallowed = true;
      return; // and never answered
    }
    const body = (await response.json()) as { data?: { refreshToken?: unknown } };
    answers.push(Boolean(body.data?.refreshToken));
    return route.fulfill({ response, json: body });
  });
  await page.waitForResponse((response) => /\/graphql$/.test(response.url()) && /mutation Refresh\(/.test(response.request().postData() ?? ""), { timeout: 30_000 });
  expect(swallowed).toBe(true);
  expect(answers).toEqual([true]);

  // Both sessions live: the one register opened, and the tab's.
  const user = await service.t.app.services.users.findByEmail(email);
  expect(await service.t.app.services.sessions.listLive(user!.id)).toHaveLength(2);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.reload();
  await page.getByText(email).waitFor();
  browser.errors.splice(0, browser.errors.length, ...browser.errors.filter((e) => !/Failed to load resource|AbortError|signal timed out/i.test(e)));
  expect(browser.errors).toEqual([]);
  await page.close();
}, 60_000);

test("with storage blocked, a sign-in keeps its token in the tab: no session is left that nobody can end", async () => {
  const email = "no-storage@example.com";
  await register(service.t, { email });
  const user = await service.t.app.services.users.findByEmail(email);
  const page = await browser.newPage();
  await blockSiteData(page);
  await signIn(page, service.pages, email, STRONG_PASSWORD);
  await page.getByRole("heading", { level: 1, name: "Your profile" }).waitFor();
  expect(await service.t.app.services.sessions.listLive(user!.id)).toHaveLength(2);
  // Signing out presents the token the tab kept: the session it opened ends.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  expect(await service.t.app.services.sessions.listLive(user!.id)).toHaveLength(1);
  expect(browser.errors).toEqual([]);
  await page.close();
});

test("a refresh refused for a passing reason at page load is tried again, and the session resumes", async () => {
  const email = "resumes@example.com";
  await register(service.t, { email });
  // A device of its own: the other tests' browser is signed in to their accounts.
  const device = await launchBrowser();
  const page = await device.newPage();
  await signIn(page, service.pages, email, STRONG_PASSWORD);
  await page.getByRole("heading", { level: 1, name: "Your profile" }).waitFor();

  // The reload's refresh meets a rate limit that asks for 2 s; the next one gets through.
  const refreshes: number[] = [];
  await page.route("**/graphql", async (route) => {
    if (!/mutation Refresh\(/.test(route.request().postData() ?? "")) return route.fallback();
    refreshes.push(Date.now());
    if (refreshes.length > 1) return route.fallback();
    return route.fulfill({ json: { data: null, errors: [{ message: "Too many requests", extensions: { code: "RATE_LIMITED", retryAfter: 2 } }] } });
  });
  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Your profile" }).waitFor({ timeout: 10_000 });
  expect(refreshes).toHaveLength(2);
  expect(refreshes[1]! - refreshes[0]!).toBeGreaterThanOrEqual(1_900);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  expect(device.errors).toEqual([]);
  await device.close();
}, 30_000);

test("an operation the service never answers is given up after its deadline: the form says so and can be sent again", async () => {
  const email = "never-answered@example.com";
  await register(service.t, { email });
  const device = await launchBrowser();
  const page = await device.newPage();
  // The page's clock, AbortSignal.timeout's included, moves only when the test says.
  await page.clock.install();
  let holding = false;
  let hold!: () => void;
  const held = new Promise<void>((resolve) => (hold = resolve));
  await page.route("**/graphql", async (route) => {
    if (!/mutation Login\(/.test(route.request().postData() ?? "") || holding) return route.fallback();
    holding = true; // and never answered
    hold();
  });
  await signIn(page, service.pages, email, STRONG_PASSWORD);
  await held;
  const timedOut = page.getByRole("alert").filter({ hasText: "did not answer in time" });
  await page.clock.runFor(29_000);
  expect(await timedOut.count()).toBe(0);
  await page.clock.runFor(2_000);
  await timedOut.waitFor();

  // The same form, sent again, signs in.
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Your profile" }).waitFor();
  await page.unrouteAll({ behavior: "ignoreErrors" });
  expect(device.errors).toEqual([]);
  await device.close();
}, 60_000);

test("a browser without AbortSignal.any still signs in (its operations keep HttpLink's own signal, without a deadline)", async () => {
  const email = "older-browser@example.com";
  await register(service.t, { email });
  const device = await launchBrowser();
  const page = await device.newPage();
  // Safari before 17.4, Firefox before 124.
  await page.addInitScript(() => Reflect.deleteProperty(AbortSignal, "any"));
  await signIn(page, service.pages, email, STRONG_PASSWORD);
  await page.getByRole("heading", { level: 1, name: "Your profile" }).waitFor();
  await page.getByText(email).waitFor();
  expect(device.errors).toEqual([]);
  await device.close();
});

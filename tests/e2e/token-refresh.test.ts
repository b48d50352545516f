import type { Page, Request, Route } from "playwright-core";
import { STRONG_PASSWORD } from "../helpers/test-app";
import { launchBrowser, type Browser } from "./helpers/browser";
import { startService, type Service } from "./helpers/service";

// Several tabs share one session (the cookie, or the stored refresh token), and the service ends
// a session whose refresh token is presented twice. REFRESH_TOKEN_REUSE_INTERVAL=0 takes away the
// grace period that would forgive two tabs racing: only the pages' cross-tab lock keeps them apart.

const ACCESS_TOKEN_TTL = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Refresh {
  tab: string;
  request: Request;
}

const isRefresh = (request: Request) =>
  request.method() === "POST" && request.url().endsWith("/graphql") && /mutation Refresh/.test(request.postData() ?? "");

/** Every refresh a tab sends. */
function trackRefreshes(page: Page, tab: string, into: Refresh[]) {
  page.on("request", (request) => {
    if (isRefresh(request)) into.push({ tab, request });
  });
}

/** Browser-side start and end of each finished refresh, in order of start. */
async function refreshWindows(refreshes: Refresh[]) {
  const windows = await Promise.all(
    refreshes.map(async ({ tab, request }) => {
      const response = await request.response();
      await response?.finished();
      const timing = request.timing();
      return { tab, start: timing.startTime, end: timing.startTime + timing.responseEnd, status: response?.status() };
    }),
  );
  return windows.sort((a, b) => a.start - b.start);
}

interface Barrier {
  /** How many refreshes each page sent while the barrier stood. */
  passed: Map<Page, number>;
  /** The most refreshes that were ever pending at the same time. */
  mostAtOnce: number;
  remove(): Promise<void>;
}

/**
 * Holds each refresh until one is pending in every page (or `ms` passed), then lets them go
 * together: two refreshes that are ever in flight at the same time reach the service at the same
 * time, with the same token. Without it, whether two tabs race is a matter of milliseconds.
 */
async function holdRefreshesTogether(pages: Page[], ms: number): Promise<Barrier> {
  const held: (() => void)[] = [];
  const barrier: Barrier = { passed: new Map(pages.map((page) => [page, 0])), mostAtOnce: 0, remove: async () => {} };
  const handler = async (route: Route) => {
    if (!isRefresh(route.request())) return route.fallback();
    const page = route.request().frame().page();
    barrier.passed.set(page, (barrier.passed.get(page) ?? 0) + 1);
    await new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        held.splice(held.indexOf(release) >>> 0, 1);
        resolve();
      };
      const timer = setTimeout(release, ms);
      held.push(release);
      barrier.mostAtOnce = Math.max(barrier.mostAtOnce, held.length);
      if (held.length === pages.length) for (const go of [...held]) go();
    });
    return route.continue();
  };
  for (const page of pages) await page.route("**/graphql", handler);
  barrier.remove = async () => {
    for (const page of pages) await page.unroute("**/graphql", handler);
  };
  return barrier;
}

const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name }).waitFor();

/** Resolves once every refresh seen so far has its answer, and the page had a moment to keep its token. */
async function refreshesSettled(refreshes: Refresh[]) {
  for (;;) {
    const answers = await Promise.all(refreshes.map(({ request }) => request.response().then((response) => response?.finished())));
    await sleep(200);
    if (answers.length === refreshes.length) return;
  }
}

describe.each([
  ["an HttpOnly cookie", "true"],
  ["localStorage", "false"],
])("two tabs, refresh token in %s", (_where, cookie) => {
  let service: Service;
  let browser: Browser;

  beforeAll(async () => {
    service = await startService({ REFRESH_TOKEN_COOKIE: cookie, ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL), REFRESH_TOKEN_REUSE_INTERVAL: "0" });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });
  afterEach(async () => {
    // A failed test must not leave a tab behind that holds the refresh lock.
    for (const page of browser.context.pages()) await page.close();
    expect(browser.errors).toEqual([]);
  });

  async function liveSessions(email: string) {
    const user = await service.t.app.services.users.findByEmail(email);
    return service.t.app.services.sessions.listLive(user!.id);
  }

  test("stay signed in across access-token expiries, never refreshing at the same time", async () => {
    const email = "tabs@example.com";
    const refreshes: Refresh[] = [];
    const first = await browser.newPage();
    const second = await browser.newPage();
    trackRefreshes(first, "first", refreshes);
    trackRefreshes(second, "second", refreshes);

    await first.goto(`${service.pages}/sign-up`);
    await first.getByLabel("Email address").fill(email);
    await first.getByLabel("Password", { exact: true }).fill(STRONG_PASSWORD);
    await first.getByRole("button", { name: "Create account" }).click();
    await heading(first, "Your profile");
    await second.goto(`${service.pages}/sessions`);
    await heading(second, "Where you are signed in");

    // Both tabs open across more than two access-token lifetimes: each refreshes on its own timer.
    await sleep((ACCESS_TOKEN_TTL * 2 + 2) * 1000);
    const whileOpen = await refreshWindows(refreshes.splice(0));
    expect(whileOpen.every((w) => w.status === 200)).toBe(true);
    for (const tab of ["first", "second"]) expect(whileOpen.filter((w) => w.tab === tab).length).toBeGreaterThanOrEqual(2);
    // Single-flight across tabs: each refresh starts after the one before it has finished.
    for (let i = 1; i < whileOpen.length; i++) expect(whileOpen[i]!.start).toBeGreaterThanOrEqual(whileOpen[i - 1]!.end);

    // Then both at the same moment: two reloads, two start-up refreshes of one session, which
    // the barrier would send together if the tabs ever had them in flight together. Not while a
    // scheduled refresh is on its way: the reload would lose the answer with the rotated token,
    // and with no reuse interval the next one would look like theft (once in CI).
    await refreshesSettled(refreshes);
    const barrier = await holdRefreshesTogether([first, second], 1500);
    await Promise.all([first.reload(), second.reload()]);
    await Promise.all([heading(first, "Your profile"), heading(second, "Where you are signed in")]);
    await barrier.remove();
    expect([barrier.passed.get(first), barrier.passed.get(second), barrier.mostAtOnce]).toEqual([1, 1, 1]);
    await Promise.all([first.getByRole("link", { name: "Sessions" }).click(), second.getByRole("link", { name: "Profile" }).click()]);
    await Promise.all([heading(first, "Where you are signed in"), heading(second, "Your profile")]);
    await first.getByText("This device").waitFor();
    await second.getByText(email).waitFor();

    expect(await liveSessions(email)).toHaveLength(1);
    expect((await refreshWindows(refreshes)).every((w) => w.status === 200)).toBe(true);

    // Signing out everywhere in one tab signs the other out at once, without a reload.
    await first.getByRole("button", { name: "Sign out everywhere" }).click();
    await first.getByRole("button", { name: "Yes, sign out everywhere" }).click();
    await heading(first, "Sign in");
    expect(await first.getByRole("status").innerText()).toBe("You are signed out on every device.");
    await heading(second, "Sign in");
    await second.reload();
    await heading(second, "Sign in");
    expect(await liveSessions(email)).toHaveLength(0);
    await first.close();
    await second.close();
  });

  test("the control: the same token refreshed twice at once, without the lock, ends the session", async () => {
    const email = "race@example.com";
    const fresh = await launchBrowser();
    // Closed even when an expectation fails: a browser left open keeps jest from exiting.
    try {
      const page = await fresh.newPage();
      await page.goto(`${service.pages}/sign-up`);
      await page.getByLabel("Email address").fill(email);
      await page.getByLabel("Password", { exact: true }).fill(STRONG_PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await heading(page, "Your profile");

      const token =
        cookie === "true"
          ? (await fresh.context.cookies(`${service.t.url}/graphql`)).find((c) => c.name === "refresh_token")?.value
          : ((await page.evaluate("localStorage.getItem('graphql-auth:refresh-token')")) as string | null);
      expect(token).toBeTruthy();
      const refresh = `mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }`;
      const results = await Promise.all([service.t.gql(refresh, { r: token }), service.t.gql(refresh, { r: token })]);
      expect(results.filter((r) => r.errors?.[0]?.extensions.code === "UNAUTHENTICATED")).toHaveLength(1);
      expect(await liveSessions(email)).toHaveLength(0);
      // The tab finds out at its next refresh, ahead of its access token's expiry, and says why.
      await heading(page, "Sign in");
      expect(await page.getByRole("status").innerText()).toBe("Your session has ended. Please sign in again.");
      await page.reload();
      await heading(page, "Sign in");
      expect(fresh.errors).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

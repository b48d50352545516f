import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Debian's chromium package; never a browser that playwright downloads. */
export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The pictures the README shows are taken anew only when asked (UPDATE_SCREENSHOTS=1): a
 * plain run writes them to a temporary directory, leaving the working tree as it was.
 */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? path.resolve(__dirname, "../../../docs/screenshots")
  : path.join(tmpdir(), "auth-e2e-screenshots");

export interface Browser {
  context: BrowserContext;
  /** A new tab that records what the page logs as an error (CSP violations, failed loads, exceptions). */
  newPage(): Promise<Page>;
  /** Everything logged as an error by this browser's pages, for the tests to assert there is none. */
  errors: string[];
  close(): Promise<void>;
}

/** One Chromium with a fresh profile of its own: a device of its own (cookies, storage, locks). */
export async function launchBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "auth-e2e-profile-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: options.viewport ?? { width: 1000, height: 760 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  context.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
    return page;
  };
  return {
    context,
    errors,
    newPage: async () => watch(await context.newPage()),
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves NAME.png in SCREENSHOTS. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The focus ring follows the test's last click: it does not belong in a picture.
  const active = page.locator(":focus");
  if (await active.count()) await active.blur();
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
}

/** The element that has the focus, as its tag and its name or text: "H1:Sign in", "INPUT:email". */
export async function focused(page: Page): Promise<string> {
  const active = page.locator(":focus");
  if (!(await active.count())) return "";
  const tag = await active.evaluate((element) => element.tagName);
  const label = (await active.getAttribute("name")) ?? (await active.textContent()) ?? "";
  return `${tag}:${label.trim()}`;
}

/** Fills in and sends the sign-in form of the account pages at `pages` (…/account). */
export async function signIn(page: Page, pages: string, email: string, password: string): Promise<void> {
  await page.goto(`${pages}/sign-in`);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Makes `page` behave as a browser that blocks site data: any use of localStorage throws, as Chromium's does then. */
export async function blockSiteData(page: Page): Promise<void> {
  await page.addInitScript(() => {
    Object.defineProperty(globalThis, "localStorage", {
      get() {
        throw new DOMException("Access is denied for this document.", "SecurityError");
      },
    });
  });
}

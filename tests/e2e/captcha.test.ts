import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { STRONG_PASSWORD } from "../helpers/test-app";
import { launchBrowser, type Browser } from "./helpers/browser";
import { startService, type Service } from "./helpers/service";

// The pages with CAPTCHA_PROVIDER on. The provider is a stand-in on this machine, with the
// script URL and siteverify address a deployment would override (CAPTCHA_SCRIPT_URL,
// CAPTCHA_VERIFY_URL): its widget is Turnstile's explicit-render API around a button, and its
// siteverify accepts the one token that button hands out, once.

const SECRET = "captcha-secret-e2e";
const SITE_KEY = "site-key-e2e";

/** Turnstile's render/reset, as the pages call them; the token names the site key it was given. */
const WIDGET_SCRIPT = `
window.turnstile = {
  render(container, options) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "I am human";
    button.addEventListener("click", () => {
      button.textContent = "Verified";
      options.callback("pass-" + options.sitekey + "-" + Math.random().toString(36).slice(2));
    });
    container.append(button);
    this.button = button;
    return "widget-1";
  },
  reset() {
    this.button.textContent = "I am human";
  },
};
`;

let stub: Server;
let stubUrl: string;
const spent = new Set<string>();
let service: Service;
let browser: Browser;

beforeAll(async () => {
  stub = createServer((request, response) => {
    if (request.url?.startsWith("/api.js")) {
      response.writeHead(200, { "content-type": "text/javascript" }).end(WIDGET_SCRIPT);
      return;
    }
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const form = new URLSearchParams(body);
      const token = form.get("response") ?? "";
      const success = form.get("secret") === SECRET && token.startsWith(`pass-${SITE_KEY}-`) && !spent.has(token);
      spent.add(token);
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ success }));
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  service = await startService({
    CAPTCHA_PROVIDER: "turnstile",
    CAPTCHA_SECRET: SECRET,
    CAPTCHA_SITE_KEY: SITE_KEY,
    CAPTCHA_SCRIPT_URL: `${stubUrl}/api.js?render=explicit`,
    CAPTCHA_VERIFY_URL: `${stubUrl}/siteverify`,
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
  await new Promise((resolve) => stub?.close(resolve));
});
afterEach(() => {
  // The widget's script and its CSP allowance: a violation would be logged as an error.
  expect(browser.errors).toEqual([]);
});

const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name }).waitFor();

test("sign-up and sign-in show the widget, refuse an unsolved one, and go through once it is solved", async () => {
  const email = "grace@example.com";
  const page = await browser.newPage();
  await page.goto(`${service.pages}/sign-up`);
  await heading(page, "Create an account");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText("Complete the captcha").waitFor();

  await page.getByRole("button", { name: "I am human" }).click();
  await page.getByRole("button", { name: "Create account" }).click();
  await heading(page, "Your profile");
  await page.getByRole("button", { name: "Sign out" }).click();

  await heading(page, "Sign in");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole("button", { name: "I am human" }).click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading(page, "Your profile");
  await page.getByRole("button", { name: "Sign out" }).click();
  await heading(page, "Sign in");
});

test("a token is good for one check: after a refused sign-in the widget asks again", async () => {
  const page = await browser.newPage();
  await page.goto(`${service.pages}/sign-in`);
  await heading(page, "Sign in");
  await page.getByLabel("Email address").fill("nobody@example.com");
  await page.getByLabel("Password", { exact: true }).fill("not-the-password-42");
  await page.getByRole("button", { name: "I am human" }).click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "not right" }).waitFor();
  // Reset after the submission: the spent token is gone with it.
  await page.getByRole("button", { name: "I am human" }).waitFor();
  expect(await page.locator('input[name="captchaToken"]').inputValue()).toBe("");
});

test("the pages' CSP lets the widget's host serve scripts and frames, and nothing else new", async () => {
  const res = await fetch(`${service.pages}/sign-in`);
  const csp = res.headers.get("content-security-policy")!;
  expect(csp).toContain(`script-src 'self' https://challenges.cloudflare.com ${stubUrl}`);
  expect(csp).toContain(`frame-src https://challenges.cloudflare.com ${stubUrl}`);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(await res.text()).toContain(`<script src="${stubUrl}/api.js?render=explicit" async></script>`);
});

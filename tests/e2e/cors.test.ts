import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { register } from "../helpers/test-app";
import { launchBrowser, type Browser } from "./helpers/browser";
import { startService, type Service } from "./helpers/service";

// A team's own frontend on another origin: the browser lets it call the API only when the
// service lists that origin in CORS_ORIGINS.

/** A page of another origin (another port is another origin). */
async function startOrigin(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><html><head><title>Another app</title></head><body>Another app</body></html>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** What a frontend does: POST a GraphQL operation with a bearer token; the error text when the browser refuses. */
function callApi(page: Page, api: string, body: unknown, token?: string): Promise<unknown> {
  return page.evaluate(
    async ([url, payload, bearer]) => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
          body: JSON.stringify(payload),
        });
        return await response.json();
      } catch (error) {
        return { refused: String(error) };
      }
    },
    [`${api}/graphql`, body, token] as const,
  );
}

let service: Service;
let browser: Browser;
let listed: { origin: string; server: Server };
let unlisted: { origin: string; server: Server };

beforeAll(async () => {
  listed = await startOrigin();
  unlisted = await startOrigin();
  service = await startService({ CORS_ORIGINS: listed.origin });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
  for (const { server } of [listed, unlisted]) if (server) await new Promise((resolve) => server.close(resolve));
});

test("a page on an origin listed in CORS_ORIGINS can call the API with a bearer token", async () => {
  const auth = await register(service.t);
  const page = await browser.newPage();
  await page.goto(listed.origin);
  expect(await callApi(page, service.t.url, { query: "{ me { id email } }" }, auth.accessToken)).toEqual({
    data: { me: { id: auth.user.id, email: auth.user.email } },
  });
  await callApi(page, service.t.url, { query: "mutation($email: String!) { requestPasswordReset(email: $email) }", variables: { email: auth.user.email } });
  await service.smtp.waitForMail(auth.user.email, (mail) => /reset-password/.test(mail.text));
  await page.close();
});

test("a page on an origin that is not listed cannot, and its request never reaches the service", async () => {
  const auth = await register(service.t);
  const page = await browser.newPage();
  await page.goto(unlisted.origin);
  expect(await callApi(page, service.t.url, { query: "{ me { id email } }" }, auth.accessToken)).toEqual({ refused: "TypeError: Failed to fetch" });
  const reset = { query: "mutation($email: String!) { requestPasswordReset(email: $email) }", variables: { email: auth.user.email } };
  expect(await callApi(page, service.t.url, reset)).toEqual({ refused: "TypeError: Failed to fetch" });
  // The preflight was refused, so the POST was never sent: no reset email.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(service.smtp.mails.filter((mail) => mail.to.includes(auth.user.email) && /reset-password/.test(mail.text))).toEqual([]);
  await page.close();
});

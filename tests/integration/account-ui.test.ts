import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config";
import { ACCOUNT_UI_CSP, registerAccountUi } from "../../src/http/account-ui";
import { createHttpServer, type HttpServer } from "../../src/http/app";
import { createMetrics } from "../../src/http/metrics";
import { createLogger } from "../../src/logger";
import { testEnv } from "../helpers/test-app";

// A stand-in for web/dist, so these run without building the pages.
let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "account-ui-"));
  mkdirSync(path.join(root, "assets"));
  writeFileSync(path.join(root, "index.html"), `<!doctype html><html><head><title>Account</title></head><body><div id="root"></div></body></html>`);
  writeFileSync(path.join(root, "assets", "index-abc123.js"), "console.log('app');");
  writeFileSync(path.join(root, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Served {
  get(url: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: string }>;
  close(): Promise<void>;
}

/** Only the account pages on a bare HTTP server, over a real socket (fastify's inject needs an ESM-only module jest cannot load). */
async function serve(env: Record<string, string> = {}, from = root): Promise<Served> {
  const config = loadConfig(testEnv(env));
  const logger = createLogger({ level: "silent" });
  // awaited: createHttpServer registers its plugins (CORS, security headers) before routes.
  const http: HttpServer = await createHttpServer(config, logger, createMetrics());
  registerAccountUi(http, { config, logger }, from);
  const base = await http.listen({ port: 0, host: "127.0.0.1" });
  return {
    async get(url, headers) {
      const res = await fetch(`${base}${url}`, { redirect: "manual", headers });
      return { status: res.status, headers: res.headers, body: await res.text() };
    },
    close: () => http.close(),
  };
}

describe("account pages with a captcha", () => {
  test("index.html loads the provider's widget and names the site key; the CSP allows the provider's hosts", async () => {
    const http = await serve({ CAPTCHA_PROVIDER: "hcaptcha", CAPTCHA_SECRET: "s", CAPTCHA_SITE_KEY: 'site"key' });
    try {
      const res = await http.get("/account/sign-in");
      expect(res.body).toContain('<meta name="captcha-provider" content="hcaptcha"><meta name="captcha-site-key" content="site&quot;key">');
      expect(res.body).toContain('<script src="https://js.hcaptcha.com/1/api.js?render=explicit" async></script></head>');
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("script-src 'self' https://hcaptcha.com https://*.hcaptcha.com https://js.hcaptcha.com;");
      expect(csp).toContain("frame-src https://hcaptcha.com https://*.hcaptcha.com https://js.hcaptcha.com;");
      expect(csp).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    } finally {
      await http.close();
    }
  });
});

describe("account pages", () => {
  let http: Served;
  beforeAll(async () => {
    http = await serve({ REFRESH_TOKEN_COOKIE: "true", PASSWORD_MIN_LENGTH: "12" });
  });
  afterAll(() => http.close());

  test("the app's index answers every path below /account/, with the settings the pages need", async () => {
    for (const url of ["/account/", "/account/sign-in", "/account/reset-password?token=abc_DEF-123", "/account/verify-email?token=x"]) {
      const res = await http.get(url);
      expect({ url, status: res.status, type: res.headers.get("content-type") }).toEqual({ url, status: 200, type: "text/html; charset=utf-8" });
      expect(res.body).toContain('<div id="root">');
      expect(res.body).toContain('<meta name="refresh-token-cookie" content="true">');
      expect(res.body).toContain('<meta name="password-min-length" content="12">');
      // Their URLs may carry a token: no copy kept on disk.
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  test("pages carry a strict Content-Security-Policy and never leak their URL as a referrer", async () => {
    const res = await http.get("/account/reset-password?token=secret");
    expect(res.headers.get("content-security-policy")).toBe(ACCOUNT_UI_CSP);
    expect(res.body).not.toContain("captcha");
    expect(ACCOUNT_UI_CSP).toMatch(/default-src 'none'/);
    expect(ACCOUNT_UI_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(ACCOUNT_UI_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(ACCOUNT_UI_CSP).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  test("built assets are files, cached for good because their names change with their content", async () => {
    const asset = await http.get("/account/assets/index-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.body).toBe("console.log('app');");
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-encoding")).toBe("gzip");
    // gzip refused (q=0), or not named at all: the file as it is.
    for (const acceptEncoding of ["gzip;q=0, br", "identity", "br;q=1, *;q=0"]) {
      const plain = await http.get("/account/assets/index-abc123.js", { "accept-encoding": acceptEncoding });
      expect({ acceptEncoding, encoding: plain.headers.get("content-encoding"), body: plain.body }).toEqual({ acceptEncoding, encoding: null, body: "console.log('app');" });
    }
    expect((await http.get("/account/assets/index-abc123.js", { "accept-encoding": "*" })).headers.get("content-encoding")).toBe("gzip");
    const icon = await http.get("/account/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  test("a missing asset is a 404, not the app's HTML", async () => {
    const res = await http.get("/account/assets/index-gone.js");
    expect(res.status).toBe(404);
    expect(res.body).not.toContain("<html");
  });

  test("/account redirects to /account/, keeping the query, however the path was written", async () => {
    for (const path of ["/account", "/%61ccount", "/acc%6Funt"]) {
      const res = await http.get(`${path}?token=abc`);
      expect(res.status).toBe(308);
      expect(res.headers.get("location")).toBe("/account/?token=abc");
      // A redirect may be cached, and this one carries the link's token.
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    expect((await http.get("/account")).headers.get("location")).toBe("/account/");
  });
});

test("ACCOUNT_UI=false serves nothing under /account/", async () => {
  const http = await serve({ ACCOUNT_UI: "false" });
  try {
    expect((await http.get("/account/")).status).toBe(404);
    expect((await http.get("/account/assets/index-abc123.js")).status).toBe(404);
  } finally {
    await http.close();
  }
});

test("the pages are off by default in production", () => {
  const production = loadConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://u:p@db:5432/auth", JWT_SECRET: randomBytes(32).toString("base64"), SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" });
  expect(production.accountUi).toBe(false);
  expect(loadConfig(testEnv()).accountUi).toBe(true);
});

test("pages that were not built answer 503 with what to run", async () => {
  const http = await serve({}, path.join(root, "missing"));
  try {
    const res = await http.get("/account/sign-in");
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/npm run build/);
  } finally {
    await http.close();
  }
});

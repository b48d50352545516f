import { randomBytes } from "node:crypto";
import { SERVICE_ARGON2, startTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from "../helpers/test-app";
import { testWithPostgres } from "../helpers/with-postgres";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ CORS_ORIGINS: "https://app.example.com, https://admin.example.com" });
});
afterAll(() => t.close());

const preflight = (origin: string) =>
  fetch(`${t.url}/graphql`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
  });

test("CORS answers only the listed origins", async () => {
  const allowed = await preflight("https://app.example.com");
  expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
  const other = await preflight("https://evil.example.net");
  expect(other.headers.get("access-control-allow-origin")).toBeNull();
  const simple = await fetch(`${t.url}/graphql?query=${encodeURIComponent("{__typename}")}`, {
    headers: { origin: "https://evil.example.net", "apollo-require-preflight": "1" },
  });
  expect(simple.headers.get("access-control-allow-origin")).toBeNull();
});

test("without CORS_ORIGINS no origin is allowed", async () => {
  const app = await startTestApp();
  try {
    const res = await fetch(`${app.url}/graphql`, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  } finally {
    await app.close();
  }
});

/** What a browser opening /graphql gets (Chromium's Accept for a page). */
const browse = (app: TestApp) =>
  fetch(`${app.url}/graphql`, { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8" } });

test("outside production a browser opening /graphql gets Apollo Sandbox", async () => {
  const page = await browse(t);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  expect(await page.text()).toMatch(/sandbox/i);
});

// NODE_ENV=production needs a DATABASE_URL: the embedded database is for development only.
testWithPostgres("in production a browser opening /graphql gets no page at all", async () => {
  const app = await startTestApp({
    // Production refuses testEnv's cheap hashing.
    ...SERVICE_ARGON2,
    NODE_ENV: "production",
    JWT_SECRET: randomBytes(32).toString("base64"),
    SMTP_URL: "smtp://127.0.0.1:1",
    FRONTEND_URL: "https://app.example.com",
  });
  try {
    const page = await browse(app);
    expect(page.status).toBe(400);
    expect(page.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await page.text()).not.toMatch(/<html|sandbox|explorer/i);
  } finally {
    await app.close();
  }
});

test("responses carry security headers suited to an API", async () => {
  const res = await t.gql(`{ __typename }`);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-powered-by")).toBeNull();
});

test("no GraphQL answer may be stored: tokens and account data carry Cache-Control: no-store", async () => {
  const email = uniqueEmail("no-store");
  const registered = await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken } }`, {
    input: { email, password: STRONG_PASSWORD },
  });
  expect(registered.data?.register.refreshToken).toBeTruthy();
  expect(registered.headers.get("cache-control")).toBe("no-store");
  const me = await t.gql(`{ me { id email } }`, undefined, { token: registered.data?.register.accessToken });
  expect(me.data?.me.email).toBe(email);
  expect(me.headers.get("cache-control")).toBe("no-store");
  // A GET query too, the one kind of request a shared cache would consider storing.
  const get = await fetch(`${t.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "1" } });
  expect(get.status).toBe(200);
  expect(get.headers.get("cache-control")).toBe("no-store");
  // Apollo's own answer to a persisted query it does not hold sets a Cache-Control of its own.
  const persisted = new URLSearchParams({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: "a".repeat(64) } }) });
  const unknown = await fetch(`${t.url}/graphql?${persisted}`, { headers: { "apollo-require-preflight": "1" } });
  expect(((await unknown.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  expect(unknown.headers.get("cache-control")).toBe("no-store");
});

describe("errors reveal nothing internal", () => {
  test("a URL that cannot be decoded is a 400 of the usual shape, with the usual headers", async () => {
    const res = await fetch(`${t.url}/account/%ZZ?token=planted-4411`, { headers: { "x-request-id": "bad-url-1" } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: [{ message: "Malformed request", extensions: { code: "BAD_REQUEST" } }] });
    expect(res.headers.get("x-request-id")).toBe("bad-url-1");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  test("malformed JSON is a 400 without the parser's message", async () => {
    const res = await fetch(`${t.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query": "{ me { id } }"' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ message: "Malformed request", extensions: { code: "BAD_REQUEST" } }] });
    expect(text).not.toMatch(/JSON|position|Unexpected|at \//);
  });

  test("wrong variable types are a clean BAD_USER_INPUT", async () => {
    const res = await t.gql(`mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, { input: { email: ["x"], password: {} } });
    expect(res.errors?.[0]?.extensions.code).toBe("BAD_USER_INPUT");
    expect(JSON.stringify(res.errors)).not.toMatch(/node_modules|\/src\/|stack/);
  });

  test("an unexpected failure is masked: no SQL, stack or path", async () => {
    // A database that is gone: every query fails inside the driver.
    const app = await startTestApp();
    try {
      await app.app.database.close();
      const res = await app.gql(`mutation { login(input: { email: "a@example.com", password: "whatever-password" }) { accessToken } }`);
      expect(res.errors).toEqual([expect.objectContaining({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } })]);
      expect(JSON.stringify(res)).not.toMatch(/select|users|closed|pglite|postgres|\/src\/|at /i);
    } finally {
      await app.close().catch(() => {});
    }
  });
});

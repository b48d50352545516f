import { startTestApp, type TestApp } from "../helpers/test-app";

let t: TestApp;
let closed: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // As in production: no introspection, so no schema details in errors either.
  closed = await startTestApp({ GRAPHQL_INTROSPECTION: "false" });
});
afterAll(async () => {
  await t.close();
  await closed.close();
});

const post = (app: TestApp, body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(`${app.url}/graphql`, { method: "POST", headers, body });

test("a document with 1,000 aliases is refused before anything runs", async () => {
  const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: __typename`).join(" ");
  const res = await post(t, JSON.stringify({ query: `{ ${aliases} }` }));
  const body = (await res.json()) as { data?: unknown; errors: { message: string; extensions: { code: string } }[] };
  expect(body.data).toBeUndefined();
  expect(res.status).toBe(400);
  expect(body.errors[0]?.extensions.code).toBe("GRAPHQL_PARSE_FAILED");
});

// A client's typo is the client's error: a 500 would page the operators (README's alerts).
test("a syntax error is a 400 with GRAPHQL_PARSE_FAILED, not a server error", async () => {
  for (const app of [t, closed]) {
    const res = await post(app, JSON.stringify({ query: "{ me { " }));
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(res.status).toBe(400);
    expect(body.errors.map((e) => e.extensions.code)).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(body.errors[0]?.message).toMatch(/^Syntax Error/);
  }
});

// Apollo refuses these with a 400 but no code; unclassified, they were anonymous INTERNAL_SERVER_ERRORs.
test("an automatic persisted query of an unknown version or with the wrong hash is a 400 with BAD_REQUEST", async () => {
  const refusals = [
    [{ version: 2, sha256Hash: "0".repeat(64) }, "Unsupported persisted query version"],
    [{}, "Unsupported persisted query version"],
    [{ version: 1, sha256Hash: "abc" }, "provided sha does not match query"],
  ] as const;
  for (const [persistedQuery, message] of refusals) {
    const res = await post(closed, JSON.stringify({ query: "{ __typename }", extensions: { persistedQuery } }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: [{ message, extensions: { code: "BAD_REQUEST" } }] });
  }
});

test("more than 15 aliases are refused", async () => {
  const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(" ");
  const res = await t.gql(`{ ${aliases} }`);
  expect(res.data).toBeUndefined();
  expect(res.errors?.[0]?.message).toMatch(/alias/i);
});

test("deeply nested documents are refused", async () => {
  expect((await t.gql(`{ me { id } }`)).errors).toBeUndefined();
  const nested = `{ a { b { c { d { e { f { g { h { i { j } } } } } } } } } }`;
  expect((await t.gql(nested)).errors?.map((e) => e.message).join("\n")).toMatch(/depth/i);
});

test("directive floods and token floods are refused", async () => {
  const directives = `{ __typename ${"@include(if: true) ".repeat(30)} }`;
  expect((await t.gql(directives)).errors?.[0]?.message).toMatch(/directive/i);
  const tokens = `{ __typename ${"a: __typename ".repeat(400)} }`;
  const flood = await t.gql(tokens);
  expect(flood.status).toBe(400);
  expect(flood.errors?.[0]?.extensions.code).toBe("GRAPHQL_PARSE_FAILED");
  expect(flood.errors?.[0]?.message).toMatch(/token/i);
});

test("a body is refused past 100 KB, a tenth of Fastify's default", async () => {
  const padded = (kib: number) => JSON.stringify({ query: `{ __typename }`, variables: { unused: "x".repeat(kib * 1024) } });
  expect((await post(t, padded(95))).status).toBe(200);
  expect((await post(t, padded(105))).status).toBe(413);
});

test("a 1 MB query is refused fast, and other requests are served meanwhile", async () => {
  const huge = JSON.stringify({ query: `{ ${"__typename ".repeat(100_000)} }` });
  const started = Date.now();
  const [big, small] = await Promise.all([post(t, huge), t.gql(`{ __typename }`)]);
  expect(big.status).toBe(413);
  expect(await big.json()).toEqual({ errors: [{ message: "Request body too large", extensions: { code: "BAD_REQUEST" } }] });
  expect(small.data).toEqual({ __typename: "Query" });
  expect(Date.now() - started).toBeLessThan(2_000);
});

test("batched requests are refused", async () => {
  const res = await post(t, JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]));
  expect(res.status).toBe(400);
});

test("CSRF: simple content types and GET mutations are refused", async () => {
  const form = await post(t, "query={__typename}", { "content-type": "application/x-www-form-urlencoded" });
  expect(form.status).toBeGreaterThanOrEqual(400);
  const text = await post(t, JSON.stringify({ query: "mutation { logoutAll }" }), { "content-type": "text/plain" });
  expect(text.status).toBeGreaterThanOrEqual(400);
  const get = await fetch(`${t.url}/graphql?query=${encodeURIComponent("mutation { logoutAll }")}`, { headers: { "apollo-require-preflight": "1" } });
  expect(get.status).toBe(405);
});

test("without introspection the schema stays hidden: no __schema, no field suggestions", async () => {
  expect((await t.gql(`{ __schema { queryType { name } } }`)).data).toBeDefined();
  const introspection = await closed.gql(`{ __schema { queryType { name } } }`);
  expect(introspection.errors?.[0]?.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  const typo = await closed.gql(`{ mee { id } }`);
  expect(typo.errors?.[0]?.message).toBe('Cannot query field "mee" on type "Query".');
  // Enum values too, and nothing of the mask is left behind.
  const role = await closed.gql(`mutation($r: Role!) { setUserRole(id: "00000000-0000-4000-8000-000000000000", role: $r) { id } }`, { r: "ADMN" });
  expect(role.errors?.[0]?.message).not.toMatch(/Did you mean|ADMIN|Suggestion/);
  const typoOpen = await t.gql(`{ mee { id } }`);
  expect(typoOpen.errors?.[0]?.message).toMatch(/Did you mean/);
});

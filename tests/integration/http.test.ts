import { createPublicKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import net from "node:net";
import jwt from "jsonwebtoken";
import { register, startTestApp, type TestApp } from "../helpers/test-app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("HTTP endpoints", () => {
  test("/healthz answers while the process is up", async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("/readyz answers 200 when the database answers", async () => {
    const res = await fetch(`${t.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", checks: { database: "ok" } });
  });

  test("the JWKS is empty for HS256, and readable from any origin", async () => {
    const res = await fetch(`${t.url}/.well-known/jwks.json`, { headers: { origin: "https://verifier.example" } });
    expect(await res.json()).toEqual({ keys: [] });
    // A verifier running in a browser on another origin may read it: public keys only.
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  });

  test("batched requests are refused", async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    });
    expect(res.status).toBe(400);
  });

  test("queries work over GET, mutations do not", async () => {
    const query = await fetch(`${t.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "1" } });
    expect(await query.json()).toEqual({ data: { __typename: "Query" } });
    const mutation = await fetch(`${t.url}/graphql?query=${encodeURIComponent("mutation { logoutAll }")}`, { headers: { "apollo-require-preflight": "1" } });
    expect(mutation.status).toBe(405);
  });

  test("a plain GET query is answered, as the contract's GET /graphql; a plain GET mutation is not", async () => {
    const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent("{ __typename }")}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: "Query" } });
    const auth = await register(t);
    const me = await fetch(`${t.url}/graphql?query=${encodeURIComponent("{ me { id } }")}`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
    expect(await me.json()).toEqual({ data: { me: { id: auth.user.id } } });
    expect((await fetch(`${t.url}/graphql?query=${encodeURIComponent("mutation { logoutAll }")}`)).status).toBe(405);
  });

  test("an unknown path is a 404 in the service's error shape, echoing nothing of the URL", async () => {
    const res = await fetch(`${t.url}/nope?token=<script>`);
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ errors: [{ message: "Not found", extensions: { code: "NOT_FOUND" } }] });
    expect(body).not.toMatch(/nope|script/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toEqual(expect.any(String));
  });

  test("malformed JSON is a 400", async () => {
    const res = await fetch(`${t.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{ not json" });
    expect(res.status).toBe(400);
  });

  test("every GraphQL error carries a code, and wrong variable types are a clean error", async () => {
    const res = await t.gql(`mutation($token: String!) { logout(refreshToken: $token) }`, { token: 42 });
    expect(res.errors?.[0]?.extensions.code).toBe("BAD_USER_INPUT");
    const invalid = await t.gql(`{ nope }`);
    expect(invalid.errors?.[0]?.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});

describe("asymmetric signing", () => {
  test.each([
    ["RS256", () => generateKeyPairSync("rsa", { modulusLength: 2048 })],
    ["ES256", () => generateKeyPairSync("ec", { namedCurve: "P-256" })],
  ])("%s tokens verify offline against the served JWKS", async (alg, makeKey) => {
    const { privateKey } = makeKey();
    const app = await startTestApp({ JWT_PRIVATE_KEY: privateKey.export({ type: "pkcs8", format: "pem" }).toString() });
    try {
      const auth = await register(app);
      const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
      expect(jwks.keys).toHaveLength(1);
      const { header } = jwt.decode(auth.accessToken, { complete: true })!;
      expect(header).toMatchObject({ alg, kid: jwks.keys[0]!.kid, typ: "at+jwt" });
      // What another subgraph would do: pick the key by kid and verify with the pinned algorithm.
      const publicKey = createPublicKey({ key: jwks.keys[0]!, format: "jwk" });
      const claims = jwt.verify(auth.accessToken, publicKey, { algorithms: [alg as jwt.Algorithm], issuer: "auth-service", audience: "api" });
      expect(claims).toMatchObject({ sub: auth.user.id });
      expect((await app.gql(`{ me { id } }`, {}, { token: auth.accessToken })).data?.me.id).toBe(auth.user.id);
    } finally {
      await app.close();
    }
  });

  test("after a key rotation, tokens of the previous key keep working here and verify offline by kid", async () => {
    const previous = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const app = await startTestApp({
      JWT_PRIVATE_KEY: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      JWT_VERIFICATION_KEYS: previous.publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    try {
      const auth = await register(app);
      const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as { keys: (JsonWebKey & { kid: string; alg: string })[] };
      expect(jwks.keys.map((key) => key.alg)).toEqual(["ES256", "RS256"]);
      // The same session's token as the previous key signed it before the rotation.
      const { iat: _iat, exp: _exp, ...claims } = jwt.decode(auth.accessToken) as jwt.JwtPayload;
      const oldToken = jwt.sign(claims, previous.privateKey, { algorithm: "RS256", expiresIn: 60, header: { alg: "RS256", typ: "at+jwt", kid: jwks.keys[1]!.kid } });
      expect((await app.gql(`{ me { id } }`, {}, { token: oldToken })).data?.me.id).toBe(auth.user.id);
      for (const token of [auth.accessToken, oldToken]) {
        const { kid } = jwt.decode(token, { complete: true })!.header;
        const served = jwks.keys.find((key) => key.kid === kid)!;
        const verified = jwt.verify(token, createPublicKey({ key: served, format: "jwk" }), { algorithms: [served.alg as jwt.Algorithm], issuer: "auth-service", audience: "api" });
        expect(verified).toMatchObject({ sub: auth.user.id });
      }
    } finally {
      await app.close();
    }
  });
});

test("a request whose body never ends is cut at REQUEST_TIMEOUT, with a 408, instead of holding its connection", async () => {
  const slow = await startTestApp({ REQUEST_TIMEOUT: "1" });
  const { hostname, port } = new URL(slow.url);
  const socket = net.connect(Number(port), hostname);
  try {
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    await new Promise((resolve) => socket.once("connect", resolve));
    const sent = Date.now();
    socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":"`);
    const closedAt = await closed;
    const answer = Buffer.concat(received).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/);
    expect(answer).toMatch(/\r\n\r\n\{"errors":\[\{"message":"Request timed out","extensions":\{"code":"BAD_REQUEST"\}\}\]\}$/);
    // One second, and the server looks every two.
    expect(closedAt - sent).toBeLessThan(5_000);
  } finally {
    socket.destroy();
    await slow.close();
  }
}, 15_000);

import { createPublicKey, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { register, startTestApp, type AuthPayload, type TestApp } from "../helpers/test-app";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
const RS256 = { algorithm: "RS256", header: { alg: "RS256", typ: "at+jwt" } } as const;

let t: TestApp;
let auth: AuthPayload;
let claims: jwt.JwtPayload;
beforeAll(async () => {
  t = await startTestApp({ JWT_PRIVATE_KEY: privateKey.export({ type: "pkcs8", format: "pem" }).toString() });
  auth = await register(t);
  claims = jwt.decode(auth.accessToken) as jwt.JwtPayload;
});
afterAll(() => t.close());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

test("the genuine token works", async () => {
  expect((await t.gql(`{ me { id } }`, {}, { token: auth.accessToken })).data?.me.id).toBe(auth.user.id);
});

test.each<[string, () => string]>([
  ["alg: none", () => `${b64({ alg: "none", typ: "at+jwt" })}.${b64({ ...claims, role: "ADMIN" })}.`],
  // The classic confusion: the public key used as an HMAC secret.
  ["HS256 signed with the service's public key", () => jwt.sign(claims, Buffer.from(publicPem), { algorithm: "HS256", header: { alg: "HS256", typ: "at+jwt" } })],
  [
    "tampered claims",
    () => {
      const [head, , signature] = auth.accessToken.split(".");
      return `${head}.${b64({ ...claims, role: "ADMIN" })}.${signature}`;
    },
  ],
  ["another issuer", () => jwt.sign({ ...claims, iss: "someone-else" }, privateKey, RS256)],
  ["another audience", () => jwt.sign({ ...claims, aud: "billing" }, privateKey, RS256)],
  ["an expired token", () => jwt.sign({ ...claims, iat: claims.iat! - 3600, exp: claims.iat! - 1800 }, privateKey, RS256)],
  ["a foreign key", () => jwt.sign(claims, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, RS256)],
  ["a foreign secret", () => jwt.sign(claims, "a-secret-that-is-not-the-services-key", { algorithm: "HS256", header: { alg: "HS256", typ: "at+jwt" } })],
  // RFC 7515: a critical extension the verifier does not know refuses the token, however well signed.
  ["a critical header extension", () => jwt.sign(claims, privateKey, { algorithm: "RS256", header: { alg: "RS256", typ: "at+jwt", crit: ["exp-only-after"], "exp-only-after": 1 } as jwt.JwtHeader })],
  ["garbage", () => "eyJhbGciOi.garbage.!!!"],
  ["a long token", () => "a".repeat(8_000)],
])("%s ends in UNAUTHENTICATED, never a 500", async (_label, forge) => {
  const res = await t.gql(`{ me { id role } }`, {}, { headers: { authorization: `Bearer ${forge()}` } });
  expect(res.status).toBe(200);
  expect(res.errors?.[0]?.extensions.code).toBe("UNAUTHENTICATED");
  expect(res.data?.me ?? null).toBeNull();
});

import net from "node:net";
import { captureLogs, type CapturedLogs } from "../helpers/log-capture";
import { fetchMetrics, sampleValue } from "../helpers/metrics";
import { startSmtpReceiver, type SmtpReceiver } from "../helpers/smtp-receiver";
import { waitFor } from "../helpers/wait-for";
import { AUTH_FIELDS, errorCode, register, registerVerified, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload, type TestApp } from "../helpers/test-app";

// The whole log of one app, at trace level (SQL statements included), while it goes through
// every flow that handles a secret. SMTP_URL is set: without it the log transport writes
// emails, reset links included, to the log on purpose (development only; production needs SMTP_URL).
let t: TestApp;
let logs: CapturedLogs;
let smtp: SmtpReceiver;
const secrets: string[] = [];

const LOGIN = `mutation SignIn($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation Refresh($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken } }`;
const NEW_PASSWORD = "saffron-ladder-comet-77";
const WRONG_PASSWORD = "tangerine-wrong-guess-13";
const REVERT_PASSWORD = "juniper-beacon-retake-58";

const events = (name: string) => logs.records().filter((record) => record.event === name);
const requestLines = () => logs.records().filter((record) => record.msg === "request completed" || record.msg === "request failed");

let user: AuthPayload;
let admin: AuthPayload;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  logs = captureLogs("trace");
  t = await startTestApp({ SMTP_URL: smtp.url, REFRESH_TOKEN_REUSE_INTERVAL: "0" }, { logger: logs.logger });

  user = await register(t);
  secrets.push(STRONG_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, user.accessToken, user.refreshToken);

  // A retired refresh token presented again: reuse detection ends the session.
  const rotated = await t.gql(REFRESH, { token: user.refreshToken });
  secrets.push(rotated.data?.refreshToken.refreshToken, rotated.data?.refreshToken.accessToken);
  expect(errorCode(await t.gql(REFRESH, { token: user.refreshToken }))).toBe("UNAUTHENTICATED");

  expect(errorCode(await t.gql(LOGIN, { input: { email: user.user.email, password: WRONG_PASSWORD } }))).toBe("UNAUTHENTICATED");
  expect(errorCode(await t.gql(LOGIN, { input: { email: uniqueEmail("nobody"), password: WRONG_PASSWORD } }))).toBe("UNAUTHENTICATED");

  await t.gql(`mutation($email: String!) { requestPasswordReset(email: $email) }`, { email: user.user.email });
  const mail = await smtp.waitForMail(user.user.email, (m) => m.text.includes("reset-password?token="));
  const resetToken = /reset-password\?token=([\w-]+)/.exec(mail.text)![1]!;
  secrets.push(resetToken);
  const reset = await t.gql(`mutation($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }`, {
    token: resetToken,
    password: NEW_PASSWORD,
  });
  expect(reset.data?.resetPassword).toBe(true);

  const login = await t.gql<{ login: AuthPayload }>(LOGIN, { input: { email: user.user.email, password: NEW_PASSWORD } });
  secrets.push(login.data!.login.accessToken, login.data!.login.refreshToken);
  const issued = await t.gql(`mutation { issueOneTimeToken(purpose: "download") { token } }`, {}, { token: login.data!.login.accessToken });
  secrets.push(issued.data?.issueOneTimeToken.token);

  // An address change, and the link that takes it back with a new password.
  const mover = await registerVerified(t);
  secrets.push(mover.accessToken, mover.refreshToken, REVERT_PASSWORD);
  const movedTo = uniqueEmail("moved");
  const requested = await t.gql(`mutation($email: String!, $password: String!) { requestEmailChange(newEmail: $email, password: $password) }`, { email: movedTo, password: STRONG_PASSWORD }, { token: mover.accessToken });
  expect(requested.data?.requestEmailChange).toBe(true);
  const changeToken = /verify-email\?token=([\w-]+)/.exec((await smtp.waitForMail(movedTo, (m) => m.text.includes("verify-email?token="))).text)![1]!;
  secrets.push(changeToken);
  expect((await t.gql(`mutation($token: String!) { verifyEmail(token: $token) { id } }`, { token: changeToken })).data?.verifyEmail.id).toBe(mover.user.id);
  const revertToken = /revert-email\?token=([\w-]+)/.exec((await smtp.waitForMail(mover.user.email, (m) => m.text.includes("revert-email?token="))).text)![1]!;
  secrets.push(revertToken);
  const reverted = await t.gql(`mutation($token: String!, $password: String!) { revertEmailChange(token: $token, newPassword: $password) }`, { token: revertToken, password: REVERT_PASSWORD });
  expect(reverted.data?.revertEmailChange).toBe(true);

  const adminEmail = uniqueEmail("admin");
  await t.app.services.userAdmin.provisionAdmin(adminEmail, STRONG_PASSWORD);
  admin = (await t.gql<{ login: AuthPayload }>(LOGIN, { input: { email: adminEmail, password: STRONG_PASSWORD } })).data!.login;
  secrets.push(admin.accessToken, admin.refreshToken);
  const deactivated = await t.gql(`mutation($id: ID!) { setUserActive(id: $id, active: false) { active } }`, { id: user.user.id }, { token: admin.accessToken });
  expect(deactivated.data?.setUserActive.active).toBe(false);

  // Places a careless log line would pick up: a malformed Authorization header, a cookie,
  // a token in the query string of a GET.
  const planted = "planted-secret-9f3a1c7e";
  secrets.push(planted);
  await t.gql(`{ me { id } }`, {}, { headers: { authorization: `Bearer ${planted} extra`, cookie: `session=${planted}` } });
  await fetch(`${t.url}/graphql?query=${encodeURIComponent("{ me { id } }")}&token=${planted}`, { headers: { "apollo-require-preflight": "1" } });
  await fetch(`${t.url}/account/reset-password?token=${planted}`);
  // A URL Fastify cannot decode, refused before any hook.
  expect((await fetch(`${t.url}/account/%ZZ?token=${planted}`)).status).toBe(400);
  // Requests Node's parser refuses (too large a header: 431; a space in a header name: 400),
  // whose bytes it hands over with the error.
  const unparsed = "unparsed-secret-5be21d04";
  secrets.push(unparsed);
  const head = `GET /account/reset-password?token=${unparsed} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${unparsed}\r\n`;
  expect(await rawRequest(t.url, `${head}X-Padding: ${"p".repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
  expect(await rawRequest(t.url, `${head}Bad Name: ${unparsed}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
});

/** Sends bytes as they are and resolves with what the server answered once it closes. */
function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = net.connect(Number(port), hostname, () => socket.end(bytes));
    socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
  });
}

afterAll(async () => {
  await t.close();
  await smtp.close();
});

describe("request log", () => {
  test("one line per request with its id, operation name, outcome and duration; the id comes back in X-Request-Id", async () => {
    const res = await t.gql(LOGIN, { input: { email: uniqueEmail(), password: WRONG_PASSWORD } }, { headers: { "x-request-id": "lb-7f3e.42" } });
    expect(res.headers.get("x-request-id")).toBe("lb-7f3e.42");

    const lines = requestLines().filter((line) => line.requestId === "lb-7f3e.42");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      method: "POST",
      path: "/graphql",
      statusCode: 200,
      operationName: "SignIn",
      operation: "login",
      outcome: "error",
      errorCodes: ["UNAUTHENTICATED"],
    });
    expect(lines[0]!.durationMs).toEqual(expect.any(Number));
  });

  test("a successful operation is logged ok, and a request without an id gets a new one", async () => {
    const res = await t.gql(`query WhoAmI { me { id } }`, {}, { token: admin.accessToken });
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [line] = requestLines().filter((record) => record.requestId === id);
    expect(line).toMatchObject({ operationName: "WhoAmI", operation: "me", outcome: "ok", errorCodes: [], statusCode: 200 });
  });

  test("an X-Request-Id that does not look like one is replaced, not logged", async () => {
    for (const forged of ["a b", "x".repeat(200), '"}{"level":60']) {
      const res = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": forged } });
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(logs.text()).not.toContain(forged);
    }
  });

  test("requests Node's parser refuses get the service's answer: JSON, security headers and a request id that their log line and a metric carry", async () => {
    const refusedBefore = await fetchMetrics(t.url);
    const head = `GET /healthz HTTP/1.1\r\nHost: localhost\r\n`;
    for (const [bytes, status, message] of [
      [`${head}X-Padding: ${"p".repeat(20_000)}\r\n\r\n`, 431, "Request headers too large"],
      [`${head}Bad Name: x\r\n\r\n`, 400, "Malformed request"],
    ] as const) {
      const answer = await rawRequest(t.url, bytes);
      const [statusLine, ...fields] = answer.slice(0, answer.indexOf("\r\n\r\n")).split("\r\n");
      expect(statusLine).toBe(`HTTP/1.1 ${status} ${status === 400 ? "Bad Request" : "Request Header Fields Too Large"}`);
      const headers = new Headers(fields.map((field) => field.split(/: (.*)/s).slice(0, 2) as [string, string]));
      expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(headers.get("x-content-type-options")).toBe("nosniff");
      expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({ errors: [{ message, extensions: { code: "BAD_REQUEST" } }] });
      const requestId = headers.get("x-request-id");
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(logs.records().filter((record) => record.requestId === requestId)).toEqual([
        expect.objectContaining({ msg: "request refused by the HTTP parser", statusCode: status, peer: "127.0.0.1", level: 30 }),
      ]);
    }
    const refused = await fetchMetrics(t.url);
    for (const status_code of ["400", "431"]) {
      expect(sampleValue(refused, "auth_http_client_errors_total", { status_code }) - sampleValue(refusedBefore, "auth_http_client_errors_total", { status_code })).toBe(1);
    }
  });

  test("requests that are not GraphQL are logged by path, without their query string", async () => {
    const lines = requestLines().filter((line) => line.path === "/account/reset-password");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).not.toHaveProperty("operation");
    expect(requestLines().filter((line) => line.path === "/account/%ZZ")).toEqual([expect.objectContaining({ statusCode: 400, requestId: expect.any(String) })]);
  });
});

describe("security events", () => {
  test("failed and successful logins, with the user id when the address has an account", () => {
    expect(events("login_failed")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userId: user.user.id, reason: "wrong_password", ip: "127.0.0.1" }),
        expect.objectContaining({ userId: null, reason: "unknown_email" }),
      ]),
    );
    expect(events("login_succeeded")).toEqual(expect.arrayContaining([expect.objectContaining({ userId: user.user.id, newDevice: false })]));
  });

  test("refresh token reuse, password reset and deactivation", () => {
    expect(events("refresh_token_reuse")).toEqual([expect.objectContaining({ userId: user.user.id, sessionId: expect.any(String), level: 40 })]);
    expect(events("password_reset")).toEqual([expect.objectContaining({ userId: user.user.id })]);
    expect(events("account_deactivated")).toEqual([expect.objectContaining({ userId: user.user.id, adminId: admin.user.id })]);
  });

  test("each event carries the id and address of the request that caused it, so it joins that request's line", () => {
    const causes: Record<string, string> = {
      login_failed: "login",
      login_succeeded: "login",
      refresh_token_reuse: "refreshToken",
      password_reset_requested: "requestPasswordReset",
      password_reset: "resetPassword",
      account_deactivated: "setUserActive",
    };
    const lines = requestLines();
    for (const [event, operation] of Object.entries(causes)) {
      const found = events(event);
      expect(found.length).toBeGreaterThan(0);
      for (const line of found) {
        expect(line).toMatchObject({ requestId: expect.any(String), ip: "127.0.0.1" });
        expect(lines.filter((request) => request.requestId === line.requestId)).toEqual([expect.objectContaining({ operation })]);
      }
    }
  });

  test("no password, token, Authorization header or cookie ever reaches the log", () => {
    const text = logs.text();
    // The capture did see the requests, SQL included: an empty log would pass the check below.
    expect(requestLines().length).toBeGreaterThan(10);
    expect(logs.records().some((record) => record.sql)).toBe(true);
    expect(secrets.filter(Boolean).length).toBe(secrets.length);
    // Also as bytes: pino writes a Buffer as a list of numbers.
    const asBytes = (secret: string) => [...Buffer.from(secret)].join(",");
    for (const secret of secrets) expect({ secret, logged: text.includes(secret) || text.includes(asBytes(secret)) }).toEqual({ secret, logged: false });
    expect(text).not.toMatch(/\$argon2id\$/);
    expect(text).not.toMatch(/bearer /i);
    expect(text).not.toContain(user.user.email);
  });
});

test("a fault of ours is logged with its cause and the id of the request that met it", async () => {
  const faultLogs = captureLogs();
  const app = await startTestApp({}, { logger: faultLogs.logger });
  try {
    const auth = await register(app);
    // The database gone from under the service: the next query fails unexpectedly.
    await app.app.database.close();
    const res = await app.gql(`{ me { id } }`, {}, { token: auth.accessToken });
    expect(errorCode(res)).toBe("INTERNAL_SERVER_ERROR");
    const requestId = res.headers.get("x-request-id");
    const faults = faultLogs.records().filter((record) => record.msg === "unexpected error in a GraphQL operation");
    expect(faults).toEqual([expect.objectContaining({ requestId, err: expect.objectContaining({ message: expect.any(String) }) })]);
    expect(faultLogs.records().filter((record) => record.requestId === requestId).map((record) => record.msg)).toEqual(["unexpected error in a GraphQL operation", "request completed"]);
  } finally {
    await app.close();
  }
});

test("an email that fails in the background is logged with the account and the request that sent it", async () => {
  const refusing = await startSmtpReceiver({ refuseRecipients: true });
  const mailLogs = captureLogs();
  const app = await startTestApp({ SMTP_URL: refusing.url }, { logger: mailLogs.logger });
  try {
    const registered = await app.gql<{ register: AuthPayload }>(
      `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`,
      { input: { email: uniqueEmail("unmailable"), password: STRONG_PASSWORD } },
      { headers: { "x-request-id": "signup-1" } },
    );
    const userId = registered.data!.register.user.id;
    await app.gql(`mutation($email: String!) { requestPasswordReset(email: $email) }`, { email: registered.data!.register.user.email }, { headers: { "x-request-id": "reset-1" } });
    const failures = () => mailLogs.records().filter((record) => record.msg === "email could not be sent");
    await waitFor(async () => expect(failures()).toHaveLength(2), 10_000);
    expect(failures()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "email_verification", userId, requestId: "signup-1" }),
        expect.objectContaining({ kind: "password_reset", userId, requestId: "reset-1" }),
      ]),
    );
  } finally {
    await app.close();
    await refusing.close();
  }
});

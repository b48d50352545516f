import { errorCode, GENEROUS_RATE_LIMITS, startTestApp, uniqueEmail, type TestApp } from "../helpers/test-app";

// The shipped defaults, not the generous limits the functional tests run with.
const DEFAULTS = Object.fromEntries(Object.keys(GENEROUS_RATE_LIMITS).map((name) => [name, undefined]));

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ ...DEFAULTS, RATE_LIMIT_REGISTER_IP: "2/1h", TRUST_PROXY: "true" });
});
afterAll(() => t.close());

/** A registration whose one trusted proxy wrote `forwardedFor` as the client. */
const registerVia = (forwardedFor: string) =>
  t.gql(`mutation($e: String!) { register(input: { email: $e, password: "plum-kettle-orbit-42" }) { user { id } } }`, { e: uniqueEmail() }, {
    headers: { "x-forwarded-for": forwardedFor },
  });

// Azure Application Gateway and App Service write the client's source port, a new one each connection.
describe("a proxy that writes the client's port in X-Forwarded-For", () => {
  test("gives an IPv4 client no fresh count per port", async () => {
    await registerVia("203.0.113.5:40001");
    await registerVia("203.0.113.5:40002");
    expect(errorCode(await registerVia("203.0.113.5:40003"))).toBe("RATE_LIMITED");
    expect(errorCode(await registerVia("203.0.113.5"))).toBe("RATE_LIMITED");
  });

  test("gives an IPv6 client no fresh count per port", async () => {
    await registerVia("[2001:db8:5::1]:40001");
    await registerVia("[2001:db8:5::2]:40002");
    expect(errorCode(await registerVia("[2001:db8:5::3]:40003"))).toBe("RATE_LIMITED");
  });

  test("addresses that do not parse share one count", async () => {
    await registerVia("unknown");
    await registerVia("_hidden");
    expect(errorCode(await registerVia("203.0.113.9:port"))).toBe("RATE_LIMITED");
  });
});

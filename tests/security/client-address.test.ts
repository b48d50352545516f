import { AUTH_FIELDS, startTestApp, STRONG_PASSWORD, uniqueEmail, type AuthPayload } from "../helpers/test-app";

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
const SESSIONS = `{ mySessions { ip } }`;

/** The address a session records for a registration that reaches the app (from 127.0.0.1) with this X-Forwarded-For. */
async function recordedAddress(trustProxy: string | undefined, forwardedFor: string): Promise<string | null | undefined> {
  const app = await startTestApp({ TRUST_PROXY: trustProxy });
  try {
    const input = { email: uniqueEmail(), password: STRONG_PASSWORD };
    const registered = await app.gql<{ register: AuthPayload }>(REGISTER, { input }, { headers: { "x-forwarded-for": forwardedFor } });
    const sessions = await app.gql(SESSIONS, {}, { token: registered.data?.register.accessToken });
    return sessions.data?.mySessions[0]?.ip;
  } finally {
    await app.close();
  }
}

// The client wrote every entry left of those its proxies appended, so it could have written any of them.
const ONE_PROXY = "203.0.113.9, 198.51.100.7";
const TWO_PROXIES = "192.0.2.66, 203.0.113.9, 198.51.100.7";

describe("the client address a session records, behind proxies", () => {
  test.each([
    ["unset: the socket's address, whatever the header says", undefined, ONE_PROXY, "127.0.0.1"],
    ["false: the socket's address, whatever the header says", "false", ONE_PROXY, "127.0.0.1"],
    ["true: the entry the one proxy appended, the right-most", "true", ONE_PROXY, "198.51.100.7"],
    ["2: the second entry from the right", "2", TWO_PROXIES, "203.0.113.9"],
    ["a list: the right-most entry that is no listed proxy", "127.0.0.1, 198.51.100.0/24", TWO_PROXIES, "203.0.113.9"],
    ["a list: a hop not on it is the client", "127.0.0.1", TWO_PROXIES, "198.51.100.7"],
    ["a list without the socket's peer: the header is ignored", "10.0.0.0/8,198.51.100.0/24", TWO_PROXIES, "127.0.0.1"],
  ])("TRUST_PROXY %s", async (_name, trustProxy, forwardedFor, expected) => {
    expect(await recordedAddress(trustProxy, forwardedFor)).toBe(expected);
  });
});

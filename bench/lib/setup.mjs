// The accounts and tokens the workloads need, made through the service's own GraphQL API
// (so the embedded back ends, out of the bench's reach, get them too).
import { BENCH_PASSWORD } from "./workloads.mjs";

/** One GraphQL call; throws on a non-2xx answer or GraphQL errors. */
export async function graphql(url, query, variables, token) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || body.errors?.length) throw new Error(`setup call failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** Runs `task` on every item, `concurrency` at a time. */
async function eachLimited(items, concurrency, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/**
 * @typedef {{ id: string, email: string, accessToken: string, refreshToken: string }} Account
 */

/** Registers `count` accounts (named, for `_entities`); returns their ids and first tokens. */
export function registerAccounts(url, prefix, count, concurrency = 8) {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}-account-${i}@bench.example.com`);
  return eachLimited(emails, concurrency, async (email, i) => {
    const data = await graphql(
      url,
      "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }",
      { input: { email, password: BENCH_PASSWORD, name: `Bench User ${i}` } },
    );
    return /** @type {Account} */ ({ id: data.register.user.id, email, accessToken: data.register.accessToken, refreshToken: data.register.refreshToken });
  });
}

/** Fresh tokens for `accounts` (a new session each), so none has expired when a workload starts. */
export function logIn(url, accounts, concurrency = 8) {
  return eachLimited(accounts, concurrency, async (account) => {
    const data = await graphql(url, "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }", {
      input: { email: account.email, password: BENCH_PASSWORD },
    });
    return /** @type {Account} */ ({ ...account, accessToken: data.login.accessToken, refreshToken: data.login.refreshToken });
  });
}

/**
 * The comparison's accounts, made through Better Auth's sign-up endpoint: their ids, and the
 * session cookie each sign-up set (what a browser then sends to get-session).
 * @returns {Promise<{ id: string, email: string, cookie: string }[]>}
 */
export function registerBetterAuthAccounts(url, prefix, count, concurrency = 8) {
  const emails = Array.from({ length: count }, (_, i) => `${prefix}-better-auth-${i}@bench.example.com`);
  return eachLimited(emails, concurrency, async (email, i) => {
    const response = await fetch(`${url}/api/auth/sign-up/email`, {
      method: "POST",
      // A browser on its own origin says so; Better Auth refuses a POST without an Origin in production.
      headers: { "content-type": "application/json", origin: url },
      body: JSON.stringify({ email, password: BENCH_PASSWORD, name: `Bench User ${i}` }),
    });
    const body = await response.json().catch(() => ({}));
    const cookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.startsWith("better-auth.session_token="));
    if (!response.ok || !body.user?.id || !cookie) throw new Error(`Better Auth sign-up failed (HTTP ${response.status}): ${JSON.stringify(body)}`);
    return { id: body.user.id, email, cookie };
  });
}

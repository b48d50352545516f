// What each workload sends, and what a correct answer looks like. Used by the load child
// (bench/lib/load.mjs), which runs autocannon; the data (tokens, ids) comes from the setup
// in bench/run.mjs.

/** @typedef {{ method?: string, path?: string, headers?: Record<string, string>, body?: string,
 *   setupRequest?: (request: any, context: any) => any,
 *   onResponse?: (status: number, body: string, context: any) => void }} AutocannonRequest */

/**
 * @typedef {object} Workload
 * @property {string} name
 * @property {string} title               what the row of the table says
 * @property {"req" | "pair"} unit        a pair is two requests (issue then consume)
 * @property {(client: number, data: any, record: Recorder) => AutocannonRequest[]} requests
 *   the sequence one connection repeats; `client` numbers the connection from 0
 */

/** @typedef {(ok: boolean, problem?: string) => void} Recorder */

const JSON_HEADERS = { "content-type": "application/json" };
const bearer = (token) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });
const post = (body, headers = JSON_HEADERS) => ({ method: "POST", path: "/graphql", headers, body: JSON.stringify(body) });

export const BENCH_PASSWORD = "bench correct horse battery";

/**
 * Parses a JSON answer and hands it to `expect`, which returns the value the next request
 * needs (or throws). A non-2xx status, a body that is not JSON or a throw is an error.
 * @returns {any} the value `expect` returned, or undefined after an error
 */
function checkedJson(status, body, record, expect) {
  if (status < 200 || status >= 300) return void record(false, `HTTP ${status}: ${body.slice(0, 300)}`);
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    return void record(false, `not JSON: ${body.slice(0, 300)}`);
  }
  try {
    const value = expect(parsed);
    record(true);
    return value;
  } catch (error) {
    record(false, `${error.message}: ${body.slice(0, 300)}`);
  }
}

/** A GraphQL answer: as checkedJson, and an `errors` entry is an error too; `expect` gets `data`. */
function checked(status, body, record, expect) {
  return checkedJson(status, body, record, (parsed) => {
    must(!parsed.errors?.length, "GraphQL errors");
    return expect(parsed.data);
  });
}

/** Each connection walks the accounts from its own offset, so no account is hit in a burst. */
function accountWalker(client, accounts) {
  let next = client;
  return () => accounts[next++ % accounts.length];
}

function must(condition, message) {
  if (!condition) throw new Error(message);
}

/** @type {Record<string, Workload>} */
export const WORKLOADS = {
  typename: {
    name: "typename",
    title: "{ __typename }",
    unit: "req",
    requests: (_client, _data, record) => [
      {
        ...post({ query: "{ __typename }" }),
        onResponse: (status, body) => checked(status, body, record, (data) => must(data?.__typename === "Query", "no __typename")),
      },
    ],
  },

  me: {
    name: "me",
    title: "me (valid access token)",
    unit: "req",
    requests: (client, data, record) => {
      const account = data.accounts[client % data.accounts.length];
      return [
        {
          ...post({ query: "{ me { id email role } }" }, bearer(account.accessToken)),
          onResponse: (status, body) => checked(status, body, record, (d) => must(d?.me?.id === account.id, "me is not the caller")),
        },
      ];
    },
  },

  login: {
    name: "login",
    title: "login (right password)",
    unit: "req",
    requests: (client, data, record) => {
      const nextAccount = accountWalker(client, data.accounts);
      return [
        {
          ...post({}),
          setupRequest: (request) => {
            const account = nextAccount();
            request.body = JSON.stringify({
              query: "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }",
              variables: { input: { email: account.email, password: BENCH_PASSWORD } },
            });
            return request;
          },
          onResponse: (status, body) => checked(status, body, record, (d) => must(d?.login?.accessToken && d.login.user?.id, "no tokens")),
        },
      ];
    },
  },

  refresh: {
    name: "refresh",
    title: "refreshToken chain",
    unit: "req",
    requests: (client, data, record) => {
      // The connection's own chain: each request presents the token the previous answer returned.
      let token = data.refreshTokens[client];
      return [
        {
          ...post({}),
          setupRequest: (request) => {
            request.body = JSON.stringify({
              query: "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }",
              variables: { t: token },
            });
            return request;
          },
          onResponse: (status, body) => {
            const next = checked(status, body, record, (d) => {
              must(d?.refreshToken?.refreshToken && d.refreshToken.refreshToken !== token, "no new refresh token");
              return d.refreshToken.refreshToken;
            });
            if (next) token = next;
          },
        },
      ];
    },
  },

  oneTimeToken: {
    name: "oneTimeToken",
    title: "issueOneTimeToken + consumeOneTimeToken",
    unit: "pair",
    requests: (client, data, record) => {
      const account = data.accounts[client % data.accounts.length];
      const headers = bearer(account.accessToken);
      return [
        {
          ...post({ query: 'mutation { issueOneTimeToken(purpose: "bench") { token } }' }, headers),
          onResponse: (status, body, context) => {
            context.token = checked(status, body, record, (d) => {
              must(d?.issueOneTimeToken?.token, "no token");
              return d.issueOneTimeToken.token;
            });
          },
        },
        {
          ...post({}, headers),
          setupRequest: (request, context) => {
            // A failed issue leaves nothing to consume: start the pair again.
            if (!context.token) return null;
            request.body = JSON.stringify({
              query: 'mutation($t: String!) { consumeOneTimeToken(token: $t, purpose: "bench") { purpose user { id } } }',
              variables: { t: context.token },
            });
            return request;
          },
          onResponse: (status, body) =>
            checked(status, body, record, (d) => must(d?.consumeOneTimeToken?.user?.id === account.id, "consumed by someone else")),
        },
      ];
    },
  },

  register: {
    name: "register",
    title: "register (unique emails)",
    unit: "req",
    requests: (client, data, record) => {
      let count = 0;
      return [
        {
          ...post({}),
          setupRequest: (request) => {
            const email = `${data.emailPrefix}-${client}-${count++}@bench.example.com`;
            request.body = JSON.stringify({
              query: "mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }",
              variables: { input: { email, password: BENCH_PASSWORD, name: `Bench ${client}` } },
            });
            return request;
          },
          onResponse: (status, body) => checked(status, body, record, (d) => must(d?.register?.accessToken, "no access token")),
        },
      ];
    },
  },

  entities: {
    name: "entities",
    title: "_entities, 50 users",
    unit: "req",
    // Each connection its own 50 users, from 50 × its number on: disjoint with 50 accounts per connection.
    requests: (client, data, record) => {
      const userIds = Array.from({ length: 50 }, (_, i) => data.userIds[(client * 50 + i) % data.userIds.length]);
      const representations = userIds.map((id) => ({ __typename: "User", id }));
      return [
        {
          ...post({ query: "query($r:[_Any!]!){ _entities(representations:$r){ ... on User { id name } } }", variables: { r: representations } }),
          onResponse: (status, body) =>
            checked(status, body, record, (d) => {
              must(d?._entities?.length === representations.length, "wrong number of entities");
              must(d._entities.every((user, i) => user?.id === userIds[i] && user.name), "missing or misplaced user");
            }),
        },
      ];
    },
  },

  // The comparison (`--compare better-auth`): Better Auth's own endpoints for the same two jobs.
  betterAuthSignIn: {
    name: "betterAuthSignIn",
    title: "Better Auth: POST /api/auth/sign-in/email (right password)",
    unit: "req",
    requests: (client, data, record) => {
      const nextAccount = accountWalker(client, data.accounts);
      return [
        {
          method: "POST",
          path: "/api/auth/sign-in/email",
          // As a browser on the same origin: Better Auth refuses a POST without one in production.
          headers: { ...JSON_HEADERS, origin: data.origin },
          setupRequest: (request) => {
            const account = nextAccount();
            request.body = JSON.stringify({ email: account.email, password: BENCH_PASSWORD });
            return request;
          },
          onResponse: (status, body) => checkedJson(status, body, record, (b) => must(b?.token && b.user?.id, "no session")),
        },
      ];
    },
  },

  betterAuthSession: {
    name: "betterAuthSession",
    title: "Better Auth: GET /api/auth/get-session (valid session cookie)",
    unit: "req",
    requests: (client, data, record) => {
      const account = data.accounts[client % data.accounts.length];
      return [
        {
          method: "GET",
          path: "/api/auth/get-session",
          headers: { cookie: account.cookie },
          onResponse: (status, body) => checkedJson(status, body, record, (b) => must(b?.user?.id === account.id, "the session is not the caller's")),
        },
      ];
    },
  },
};

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { from, switchMap, throwError } from "rxjs";
import type { Tokens } from "../auth/tokens";

/**
 * How long an operation waits for its whole answer. A service that never answers (a hung
 * instance, a connection a proxy holds open) would otherwise leave its form sending for good;
 * a sign-in under load is answered or shed (RATE_LIMITED) within seconds.
 */
const OPERATION_TIMEOUT_MS = 30_000;

/**
 * fetch, given up with a TimeoutError once OPERATION_TIMEOUT_MS pass without the whole answer.
 * HttpLink passes a signal of its own (it aborts an operation nobody waits for any more); a
 * browser without AbortSignal.any (Safari before 17.4, Firefox before 124) keeps only that one.
 */
const fetchWithDeadline: typeof fetch = (input, init) => {
  const deadline = AbortSignal.timeout(OPERATION_TIMEOUT_MS);
  const given = init?.signal;
  const signal = !given ? deadline : typeof AbortSignal.any === "function" ? AbortSignal.any([given, deadline]) : given;
  return fetch(input, { ...init, signal });
};

/** The service refused the caller: no token, or one of a session that has ended. */
export const isUnauthenticated = (error: unknown) =>
  CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED");

/**
 * Apollo Client for this service: every operation carries a fresh access token (refreshed ahead
 * of expiry), and one that was refused anyway (the service restarted with another key, or a
 * password change retired it) is retried once after a refresh.
 */
export function createClient(tokens: Tokens, uri: string) {
  const withAccessToken = new SetContextLink(async (previous) => {
    const token = await tokens.accessToken();
    return token ? { headers: { ...previous.headers, authorization: `Bearer ${token}` } } : {};
  });

  const retryOnceAfterRefresh = new ErrorLink(({ error, operation, forward }) => {
    const context = operation.getContext();
    // Only requests that carried a token: a wrong password at sign-in is UNAUTHENTICATED too.
    if (!isUnauthenticated(error) || !context.headers?.authorization || context.retriedAfterRefresh) return;
    operation.setContext({ retriedAfterRefresh: true });
    return from(tokens.refresh()).pipe(switchMap((token) => (token ? forward(operation) : throwError(() => error))));
  });

  const client = new ApolloClient({
    link: ApolloLink.from([retryOnceAfterRefresh, withAccessToken, new HttpLink({ uri, credentials: "same-origin", fetch: fetchWithDeadline })]),
    cache: new InMemoryCache(),
  });
  // However the session ended (a sign-out here or in another tab, a refresh the service refused
  // after a revocation elsewhere), nothing cached for its account may show to whoever signs in next.
  tokens.subscribe(() => {
    if (tokens.state() === "signed-out") void client.clearStore();
  });
  return client;
}

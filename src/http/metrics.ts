import { timingSafeEqual } from "node:crypto";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { HttpServer } from "./app";

export type Metrics = ReturnType<typeof createMetrics>;

// From a cache-warm `me` (a few ms) to an argon2 login under load (hundreds of ms).
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every metric of one app, in a registry of its own rather than prom-client's global one,
 * so several apps in one process (the tests, two instances side by side) never add to each
 * other's counters. Label values are bounded: route patterns, root field names, error codes.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const metrics = {
    registry,
    httpRequestDuration: new Histogram({
      name: "auth_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    httpClientErrors: new Counter({
      name: "auth_http_client_errors_total",
      help: "Requests Node's HTTP parser refused before the app saw them, by status code (400 malformed, 408 timed out, 431 headers too large)",
      labelNames: ["status_code"] as const,
      registers,
    }),
    graphqlRequests: new Counter({
      name: "auth_graphql_requests_total",
      help: "GraphQL operations by root field and outcome (ok, or the code of the first error)",
      labelNames: ["operation", "outcome"] as const,
      registers,
    }),
    graphqlDuration: new Histogram({
      name: "auth_graphql_request_duration_seconds",
      help: "GraphQL operation latency by root field",
      labelNames: ["operation"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    logins: new Counter({
      name: "auth_logins_total",
      help: "Password logins by outcome (success, failure)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    /** One per refused call, labelled with the limited operation (the rate_limited security event counts it). */
    rateLimitHits: new Counter({
      name: "auth_rate_limit_hits_total",
      help: "Calls refused by a rate limit, by operation",
      labelNames: ["operation"] as const,
      registers,
    }),
    refreshTokenReuse: new Counter({
      name: "auth_refresh_token_reuse_total",
      help: "Retired refresh tokens presented again: each one ended a session",
      registers,
    }),
    tokenStoreErrors: new Counter({
      name: "auth_token_store_errors_total",
      help: "Token store calls that failed, by operation",
      labelNames: ["operation"] as const,
      registers,
    }),
    databaseErrors: new Counter({
      name: "auth_database_errors_total",
      help: "GraphQL operations that failed on the database, or were refused while its migrations were pending",
      registers,
    }),
    databaseConnectionsLost: new Counter({
      name: "auth_database_connections_lost_total",
      help: "Times the PostgreSQL pool gave up its connections: a query went unanswered past the statement timeout",
      registers,
    }),
  };
  // Series that exist from the start, so rate() and ratios have something to work on at 0.
  for (const outcome of ["success", "failure"]) metrics.logins.inc({ outcome }, 0);
  return metrics;
}

/**
 * Compares the credentials in constant time, so the answer's timing tells nothing of the
 * token; the scheme is case-insensitive (RFC 9110 §11.1).
 */
function isBearer(authorization: string | undefined, token: string): boolean {
  const match = /^bearer +(\S+)$/i.exec(authorization ?? "");
  const [given, expected] = [Buffer.from(match?.[1] ?? ""), Buffer.from(token)];
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * GET /metrics in the Prometheus text format, and the latency of every HTTP request. With a
 * token, /metrics answers only a scraper that sends it (Prometheus's `authorization`), since it
 * tells anyone who can reach it the service's sign-in volumes and when Redis is down.
 */
export function registerMetrics(http: HttpServer, metrics: Metrics, token?: string): void {
  http.addHook("onResponse", async (request, reply) => {
    // The route pattern, not the path: paths are unbounded, patterns are the routes this app has.
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequestDuration.observe({ method: request.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
  });

  http.get("/metrics", async (request, reply) => {
    if (token && !isBearer(request.headers.authorization, token)) return reply.code(401).header("www-authenticate", "Bearer").send();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

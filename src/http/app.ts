import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { ApolloServer } from "@apollo/server";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import cors from "@fastify/cors";
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from "fastify";
import type { SigningKey } from "../auth/signing-key";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { errorBody, INTERNAL_MESSAGE } from "../errors";
import type { Logger } from "../logger";
import type { Metrics } from "./metrics";
import { createContext, type Context } from "../graphql/context";
import type { Services } from "../services";
import { REDIS_TIMEOUT_MS } from "../store/redis";
import type { TokenStore } from "../store/token-store";
import { registerAccountUi } from "./account-ui";
import { refreshCookieFor, registerRefreshCookie } from "./refresh-cookie";
import { registerSecurityHeaders, securityHeaders } from "./security-headers";
import { operationReporter, registerRequestIds, RequestLog, requestIdOf } from "./request-log";
import { settledWithin } from "../settle";

export interface HttpDeps {
  config: Config;
  apollo: ApolloServer<Context>;
  services: Services;
  database: Database;
  store: TokenStore;
  signingKey: SigningKey;
  logger: Logger;
}

const MAX_BODY_BYTES = 100 * 1024;
const REQUEST_CHECK_INTERVAL_MS = 2_000;
/** Node's default for receiving a request's headers. */
const HEADERS_TIMEOUT_MS = 60_000;
/** As long as Redis commands get. */
const READINESS_CHECK_TIMEOUT_MS = REDIS_TIMEOUT_MS;

function clientInfo(request: FastifyRequest) {
  const userAgent = request.headers["user-agent"];
  return { ip: request.ip ?? null, userAgent: typeof userAgent === "string" ? userAgent : null, requestId: request.id };
}

/**
 * Fastify ignores X-Forwarded-For under a hop count (it cannot tell its proxy from a client
 * that connects directly), so hops are counted here: hop 0 is the socket's peer, and the
 * entry after the last trusted hop is the client.
 */
function trustProxyOption(trust: Config["http"]["trustProxy"]) {
  if (typeof trust === "number") return (_address: string, hop: number) => hop < trust;
  return trust === false ? false : [...trust];
}

export type HttpServer = Awaited<ReturnType<typeof createHttpServer>>;

/** The Fastify app with its request ids and logs, CORS, security headers and HTTP error answers. */
export async function createHttpServer(config: Config, logger: Logger, metrics: Metrics) {
  // The API answers JSON; the Sandbox page outside production loads Apollo's scripts, so no CSP here.
  const headers = securityHeaders({ contentSecurityPolicy: false, crossOriginEmbedderPolicy: false, strictTransportSecurity: config.isProduction });
  const requestLog = new RequestLog(logger);
  const http = Fastify({
    // A URL Fastify cannot decode ("/%ZZ") is refused before any hook runs: the answer gets the
    // headers and the shape every other error has here (Fastify's own echoed the URL and its
    // code), and its request line, which Fastify does not write for it (its duration reads 0).
    frameworkErrors: (error, request, reply) => {
      reply.raw.once("finish", () => requestLog.requestCompleted(null, request, reply));
      return answerHttpError(error, request, reply.headers(headers).header("x-request-id", request.id));
    },
    loggerInstance: logger,
    logController: requestLog,
    genReqId: requestIdOf,
    // Only behind a proxy may X-Forwarded-For name the client: anyone else could pick an address.
    trustProxy: trustProxyOption(config.http.trustProxy),
    bodyLimit: MAX_BODY_BYTES,
    // A request whose body never ends held its connection and up to MAX_BODY_BYTES for good:
    // Fastify turns Node's limit off (0). Node cuts one at REQUEST_TIMEOUT (408), looking every
    // few seconds (its own default looks every 30), but only while its headers' limit is no
    // longer (Node's constructor lowers that one itself; Fastify sets requestTimeout after it).
    requestTimeout: config.http.requestTimeoutMs,
    http: { connectionsCheckingInterval: REQUEST_CHECK_INTERVAL_MS, headersTimeout: Math.min(HEADERS_TIMEOUT_MS, config.http.requestTimeoutMs) },
    // Requests that arrive while draining get the service's own 503 (http/drain.ts).
    return503OnClosing: false,
    clientErrorHandler: (error, socket) => answerClientError(error, socket, { headers, logger, metrics }),
  });
  registerRequestIds(http);
  // Browsers on other origins get nothing unless listed in CORS_ORIGINS.
  await http.register(cors, { origin: config.http.corsOrigins.length ? config.http.corsOrigins : false, credentials: true, methods: ["GET", "POST"] });
  registerSecurityHeaders(http, headers);
  http.setErrorHandler(answerHttpError);
  // Fastify's own 404 had another shape and echoed the URL, query string included.
  http.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody("NOT_FOUND", "Not found")));
  return http;
}

/**
 * Errors Fastify raises before GraphQL sees a request (malformed JSON, too large a body)
 * keep their status but lose their text: a client learns what was wrong, never how.
 */
function answerHttpError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error }, "unexpected HTTP error");
  const message = status === 413 ? "Request body too large" : status === 500 ? INTERNAL_MESSAGE : MALFORMED.message;
  const code = status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST";
  return reply.code(status).send(errorBody(code, message));
}

/** What Node's HTTP parser refuses before there is a request for Fastify to answer. */
const CLIENT_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: "Request timed out" },
  HPE_HEADER_OVERFLOW: { status: 431, message: "Request headers too large" },
};
const MALFORMED = { status: 400, message: "Malformed request" };

/**
 * Answers a request Node's parser refused (too large headers, bytes that are not HTTP, one cut
 * at REQUEST_TIMEOUT) as every other error here is answered: the same JSON, security headers
 * and a request id, with a log line and a count. Fastify's default wrote a bare answer and
 * logged nothing above trace. The error's raw bytes (headers, tokens) are never logged.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, deps: { headers: Readonly<Record<string, string>>; logger: Logger; metrics: Metrics }) {
  // A connection the client reset has no one left to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const { status, message } = CLIENT_ERRORS[error.code ?? ""] ?? MALFORMED;
  const requestId = randomUUID();
  const body = JSON.stringify(errorBody("BAD_REQUEST", message));
  const fields = { ...deps.headers, "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), "x-request-id": requestId, connection: "close" };
  deps.metrics.httpClientErrors.inc({ status_code: status });
  deps.logger.info({ requestId, statusCode: status, errorCode: error.code, peer: socket.remoteAddress }, "request refused by the HTTP parser");
  // As Node does: the answer goes out in one write, then the connection closes; not when a
  // response is already on its way on this connection (a pipelined request), whose body it would land in.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join("")}\r\n${body}`);
  socket.destroy();
}

/** /graphql, /healthz, /readyz and the JWKS. */
export function registerRoutes(http: HttpServer, deps: HttpDeps): void {
  const { config, apollo, services, database, store, signingKey } = deps;
  // A back end that hangs (a network that drops packets, a server stuck) is as unavailable as
  // one that refuses: the probe answers 503 rather than nothing.
  const status = async (check: Promise<void>) => {
    const passed = check.then(
      () => true,
      () => false,
    );
    return (await settledWithin(passed, READINESS_CHECK_TIMEOUT_MS)) && (await passed) ? ("ok" as const) : ("unavailable" as const);
  };

  http.get("/healthz", async () => ({ status: "ok" }));

  http.get("/readyz", async (_request, reply) => {
    const [databaseStatus, storeStatus] = await Promise.all([status(database.ping()), status(store.ping())]);
    const checks = { database: databaseStatus, [config.redis.url ? "redis" : "tokenStore"]: storeStatus };
    const ready = Object.values(checks).every((status) => status === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ok" : "unavailable", checks });
  });

  // Public keys, for any verifier: one running in a browser on another origin too.
  http.get("/.well-known/jwks.json", async (_request, reply) =>
    reply
      .header("cache-control", "public, max-age=300")
      .header("access-control-allow-origin", "*")
      .header("cross-origin-resource-policy", "cross-origin")
      .send(signingKey.jwks),
  );

  registerRefreshCookie(http, config);
  http.route({
    url: "/graphql",
    method: ["GET", "POST", "OPTIONS"],
    // Tokens and account data must not be kept by a browser or a proxy (RFC 6749 §5.1). Set
    // last, over the Cache-Control Apollo gives some answers of its own (an unknown persisted query).
    onSend: (_request, reply, payload, done) => {
      reply.header("cache-control", "no-store");
      done(null, payload);
    },
    handler: fastifyApolloHandler(apollo, {
      context: async (request, reply) =>
        createContext(services, {
          authorization: request.headers.authorization,
          client: clientInfo(request),
          refreshCookie: refreshCookieFor(config, request, reply),
          reportOperation: operationReporter(request),
        }),
    }),
  });

  registerAccountUi(http, deps);
}

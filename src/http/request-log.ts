import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { LogController, type FastifyReply, type FastifyRequest } from "fastify";
import type { OperationSummary } from "../graphql/plugins/operation-metrics";
import type { Logger } from "../logger";
import type { HttpServer } from "./app";

declare module "fastify" {
  interface FastifyRequest {
    /** Set when the request ran a GraphQL operation (graphql/plugins/operation-metrics.ts). */
    graphql: OperationSummary | null;
  }
}

// What proxies and calling services send (UUIDs, hex, base64, trace ids). Anything else is
// replaced rather than logged: it would let a client write what it likes into the log.
const REQUEST_ID = /^[\w.:/+=-]{1,128}$/;

/** Fastify's genReqId: the caller's X-Request-Id when it looks like one, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers["x-request-id"];
  return typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Echoes the request id, so a client or a proxy can quote it when something went wrong. */
export function registerRequestIds(http: HttpServer): void {
  http.decorateRequest("graphql", null);
  http.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
}

/** Where the GraphQL context reports what the operation did (graphql/context.ts). */
export function operationReporter(request: FastifyRequest) {
  return (summary: OperationSummary) => {
    request.graphql = summary;
  };
}

/**
 * One line per request once its response is sent, with the request id that every other
 * line of the request carries too, and for GraphQL the operation and its outcome. Method
 * and path only: no headers (Authorization, cookies) and no query string (reset links carry
 * tokens in it).
 */
export class RequestLog extends LogController {
  /**
   * Every field of a completed request's line is chosen below and none carries a secret, so
   * these lines skip the redaction pass (a few per cent of a request's CPU, bench/ issue 7).
   * Lines with an error keep it: they go through the request's own logger.
   */
  private readonly lines: Logger;

  constructor(logger: Logger) {
    super({ requestIdLogLabel: "requestId" });
    this.lines = logger.child({}, { redact: [] });
  }

  override incomingRequest(): void {}

  // The request line below already says 404, without the query string this one would carry.
  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const { graphql } = request;
    const line = {
      method: request.method,
      path: request.url.split("?")[0],
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      ip: request.ip,
      ...(graphql && {
        operationName: graphql.operationName,
        operation: graphql.operation,
        outcome: graphql.errorCodes.length ? "error" : "ok",
        errorCodes: graphql.errorCodes,
      }),
    };
    // A 503 without an error is a known state (draining, a back end down, migrations pending)
    // that other lines already explain: a warning, not a failure of its own.
    if (error || (reply.statusCode >= 500 && reply.statusCode !== 503)) reply.log.error({ ...line, err: error ?? undefined }, "request failed");
    else if (reply.statusCode === 503) this.lines.warn({ requestId: request.id, ...line }, "request completed");
    else this.lines.info({ requestId: request.id, ...line }, "request completed");
  }
}

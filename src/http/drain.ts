import type { ApolloServerPlugin } from "@apollo/server";
import { errorBody } from "../errors";
import type { Logger } from "../logger";
import type { HttpServer } from "./app";

/**
 * Apollo's stop() drains the HTTP server first: Fastify stops listening, closes idle
 * keep-alive connections and waits for the requests in flight, while the hook below answers
 * 503 to new requests on busy ones. That wait is bounded: past `timeoutMs` the remaining connections are
 * cut, so one stuck request cannot hold the shutdown until the orchestrator's SIGKILL,
 * which would leave the database and Redis connections to time out on the server side.
 */
export function drainPlugin(http: HttpServer, options: { timeoutMs: number; logger: Logger }): ApolloServerPlugin {
  // Fastify answers requests that arrive while it closes with Connection: close, but not those
  // already running: their keep-alive connections would then stay open, idle, until the
  // timeout cut them. Every answer sent while draining closes its connection.
  let draining = false;
  http.addHook("onSend", (_request, reply, payload, done) => {
    if (draining) reply.header("connection", "close");
    done(null, payload);
  });
  // A request that reaches routing once draining began (its headers completed on a connection
  // that was not idle) is turned away here rather than by Fastify's return503OnClosing, whose
  // fixed answer skipped every hook: it gets the request id, the security headers, the shape of
  // every other error, its request line and its count in the HTTP metrics.
  http.addHook("onRequest", (_request, reply, done) => {
    if (!draining) return done();
    void reply
      .code(503)
      .header("retry-after", "1")
      // The contract's code for a failure that is not the client's, as for a database not yet migrated.
      .send(errorBody("INTERNAL_SERVER_ERROR", "Service unavailable: shutting down"));
  });
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          draining = true;
          const deadline = setTimeout(() => {
            options.logger.warn({ timeoutMs: options.timeoutMs }, "requests still in flight at the shutdown timeout; closing their connections");
            http.server.closeAllConnections();
          }, options.timeoutMs);
          try {
            await http.close();
          } finally {
            clearTimeout(deadline);
          }
        },
      };
    },
  };
}

import type { ApolloServerPlugin } from "@apollo/server";
import type { Logger } from "../logger";
import type { HttpServer } from "./app";

/**
 * Apollo's stop() drains the HTTP server first: Fastify stops listening, closes idle
 * keep-alive connections, answers 503 to new requests on busy ones and waits for the
 * requests in flight. That wait is bounded: past `timeoutMs` the remaining connections are
 * cut, so one stuck request cannot hold the shutdown until the orchestrator's SIGKILL,
 * which would leave the database and Redis connections to time out on the server side.
 */
export function drainPlugin(http: HttpServer, options: { timeoutMs: number; logger: Logger }): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
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

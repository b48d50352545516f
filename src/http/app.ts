import { ApolloServer } from "@apollo/server";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import Fastify, { LogController, type FastifyRequest } from "fastify";
import type { SigningKey } from "../auth/signing-key";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { Logger } from "../logger";
import { createContext, type Context } from "../graphql/context";
import type { Services } from "../services";
import type { TokenStore } from "../store/token-store";

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

function clientInfo(request: FastifyRequest) {
  const userAgent = request.headers["user-agent"];
  return { ip: request.ip ?? null, userAgent: typeof userAgent === "string" ? userAgent : null };
}

/** Builds the Fastify app; Apollo must be registered with the drain plugin before it starts. */
export type HttpServer = ReturnType<typeof createHttpServer>;

export function createHttpServer(config: Config, logger: Logger) {
  return Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.http.trustProxy,
    bodyLimit: MAX_BODY_BYTES,
    return503OnClosing: true,
  });
}

export function drainPlugin(http: HttpServer) {
  return fastifyApolloDrainPlugin(http);
}

/** /graphql, /healthz, /readyz and the JWKS. */
export function registerRoutes(http: HttpServer, deps: HttpDeps): void {
  const { config } = deps;
  const { apollo, services, database, store, signingKey } = deps;
  const status = (check: Promise<void>) => check.then(() => "ok" as const, () => "unavailable" as const);

  http.get("/healthz", async () => ({ status: "ok" }));

  http.get("/readyz", async (_request, reply) => {
    const [databaseStatus, storeStatus] = await Promise.all([status(database.ping()), status(store.ping())]);
    const checks = { database: databaseStatus, [config.redis.url ? "redis" : "tokenStore"]: storeStatus };
    const ready = Object.values(checks).every((status) => status === "ok");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ok" : "unavailable", checks });
  });

  http.get("/.well-known/jwks.json", async (_request, reply) =>
    reply.header("cache-control", "public, max-age=300").send(signingKey.jwks),
  );

  http.route({
    url: "/graphql",
    method: ["GET", "POST", "OPTIONS"],
    handler: fastifyApolloHandler(apollo, {
      context: async (request) =>
        createContext(services, { authorization: request.headers.authorization, client: clientInfo(request) }),
    }),
  });
}

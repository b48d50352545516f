import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from "@apollo/server/plugin/landingPage/default";
import { loadSigningKey } from "./auth/signing-key";
import type { Config } from "./config";
import { openDatabase, type Database } from "./db/client";
import { createFormatError } from "./errors";
import type { Context } from "./graphql/context";
import { buildGraphQLSchema } from "./graphql/schema";
import { createHttpServer, drainPlugin, registerRoutes, type HttpServer } from "./http/app";
import { createLogger, type Logger } from "./logger";
import { createServices, type Services } from "./services";

export interface App {
  config: Config;
  http: HttpServer;
  database: Database;
  services: Services;
  logger: Logger;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, drains in-flight requests, closes every back end. */
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Injected clock for tests. */
  now?: () => Date;
  /** Sees every SQL statement; by default they are logged at trace level. */
  onQuery?: (sql: string) => void;
}

/** The composition root: everything is built here, once, and handed down. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const onQuery = options.onQuery ?? (logger.isLevelEnabled("trace") ? (sql: string) => logger.trace({ sql }, "sql") : undefined);
  const database = openDatabase({ ...config.database, onQuery });
  try {
    await database.migrate();
    const signingKey = loadSigningKey(config.jwt, config.database.dataDir);
    const services = await createServices({ config, database, signingKey, now: options.now });
    const http = createHttpServer(config, logger);
    const apollo = new ApolloServer<Context>({
      schema: await buildGraphQLSchema(),
      nodeEnv: config.env,
      introspection: config.http.introspection,
      includeStacktraceInErrorResponses: false,
      formatError: createFormatError((error) => logger.error({ err: error }, "unexpected error in a GraphQL operation")),
      logger,
      plugins: [
        drainPlugin(http),
        // Inline traces would show a gateway per-field timings of every operation; nothing here uses them.
        ApolloServerPluginInlineTraceDisabled(),
        config.isProduction ? ApolloServerPluginLandingPageProductionDefault({ footer: false }) : ApolloServerPluginLandingPageLocalDefault({ footer: false }),
      ],
    });
    await apollo.start();
    registerRoutes(http, { config, apollo, services, database, signingKey, logger });

    return {
      config,
      http,
      database,
      services,
      logger,
      async listen() {
        return http.listen({ port: config.http.port, host: config.http.host });
      },
      async close() {
        await http.close();
        await apollo.stop();
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

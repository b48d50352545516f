import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { scheduleSessionPurge } from "./auth/session-purge";
import { loadSigningKey } from "./auth/signing-key";
import { createBackgroundWork } from "./background";
import type { Config } from "./config";
import { openDatabase, type Database, type DatabaseOptions } from "./db/client";
import { migrateAtStartup, type StartupMigration } from "./db/startup-migration";
import { formatError, formatErrorHidingSchema } from "./errors";
import { createArmor } from "./graphql/armor";
import type { Context } from "./graphql/context";
import { faultLogPlugin } from "./graphql/plugins/fault-log";
import { createDocumentStore, createQueryCache } from "./graphql/document-store";
import { operationMetricsPlugin } from "./graphql/plugins/operation-metrics";
import { requireDatabasePlugin } from "./graphql/plugins/require-database";
import { buildGraphQLSchema } from "./graphql/schema";
import { createHttpServer, registerRoutes, type HttpServer } from "./http/app";
import { drainPlugin } from "./http/drain";
import { createMetrics, registerMetrics, type Metrics } from "./http/metrics";
import { createLogger, type Logger } from "./logger";
import { createMailer } from "./mail/mailer";
import { createMailTransport } from "./mail/transports";
import { createServices, type Services } from "./services";
import { countStoreErrors } from "./store/error-counting";
import { createMemoryStore } from "./store/memory";
import { createRedisStore } from "./store/redis";
import type { TokenStore } from "./store/token-store";

export interface App {
  config: Config;
  http: HttpServer;
  database: Database;
  store: TokenStore;
  services: Services;
  logger: Logger;
  metrics: Metrics;
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
  onQuery?: DatabaseOptions["onQuery"];
  /** An in-memory embedded database starts from this data directory (db/client.ts). */
  embeddedDatabaseImage?: Blob;
}

/** The composition root: everything is built here, once, and handed down. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const onQuery = options.onQuery ?? (logger.isLevelEnabled("trace") ? (sql: string) => logger.trace({ sql }, "sql") : undefined);
  const metrics = createMetrics();
  const database = openDatabase({
    ...config.database,
    onQuery,
    embeddedImage: options.embeddedDatabaseImage,
    onConnectionsLost: (waitedMs) => {
      metrics.databaseConnectionsLost.inc();
      logger.error({ waitedMs: Math.round(waitedMs) }, "PostgreSQL left a query unanswered past its statement timeout: its connections were given up and new ones are opened");
    },
  });
  const { redis } = config;
  const tokenStore = redis.url ? createRedisStore({ ...redis, url: redis.url, logger }) : createMemoryStore({ now: options.now });
  const store = countStoreErrors(tokenStore, (operation) => metrics.tokenStoreErrors.inc({ operation }));
  const transport = createMailTransport({ smtpUrl: config.mail.smtpUrl, logger });
  const background = createBackgroundWork(logger);
  let migration: StartupMigration | undefined;
  const closeBackEnds = async () => {
    await migration?.stop();
    transport.close();
    await Promise.allSettled([store.close(), database.close()]);
  };
  try {
    // Starts even when the database is down: readiness and every operation say so until it is back.
    migration = await migrateAtStartup({ database, logger });
    const signingKey = loadSigningKey(config.jwt, config.database.dataDir);
    const mailer = createMailer({ transport, from: config.mail.from, frontendUrl: config.mail.frontendUrl, logger });
    const services = await createServices({ config, database, store, mailer, background, signingKey, logger, metrics, now: options.now });
    const http = await createHttpServer(config, logger, metrics);
    registerMetrics(http, metrics, config.metrics.token);
    const armor = createArmor();
    const apollo = new ApolloServer<Context>({
      schema: await buildGraphQLSchema({ maxEntities: config.http.maxEntities }),
      nodeEnv: config.env,
      introspection: config.http.introspection,
      hideSchemaDetailsFromClientErrors: !config.http.introspection,
      includeStacktraceInErrorResponses: false,
      allowBatchedHttpRequests: false,
      // The contract's GET /graphql answers queries as a plain GET. Apollo's CSRF prevention
      // would refuse one without a preflight header, and guards nothing here: a query carries no
      // ambient credential (the caller is the Authorization header, which a cross-site page cannot
      // send unpreflighted; the refresh cookie is SameSite=Strict and read by two mutations only),
      // mutations are refused over GET, and a POST must be JSON, which no simple request is.
      csrfPrevention: false,
      parseOptions: armor.parseOptions,
      validationRules: armor.validationRules,
      documentStore: createDocumentStore(),
      cache: createQueryCache(),
      formatError: config.http.introspection ? formatError : formatErrorHidingSchema,
      logger,
      // Shutdown is ours (server.ts): Apollo's own signal handlers would race it.
      stopOnTerminationSignals: false,
      plugins: [
        ...armor.plugins,
        drainPlugin(http, { timeoutMs: config.shutdown.timeoutMs, logger }),
        faultLogPlugin(logger),
        operationMetricsPlugin(metrics),
        requireDatabasePlugin({ database, metrics }),
        // Inline traces would show a gateway per-field timings of every operation; nothing here uses them.
        ApolloServerPluginInlineTraceDisabled(),
        // No type or field here may be cached (every answer is about a caller or carries a token),
        // so the per-field cache hints Apollo would compute for every resolver are never used:
        // /graphql answers no-store from the route itself (http/app.ts).
        ApolloServerPluginCacheControlDisabled(),
        // Apollo Sandbox outside production only (the contract); production has no page at all,
        // not even Apollo's own production one, which still loads its explorer.
        config.isProduction ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ footer: false }),
      ],
    });
    await apollo.start();
    registerRoutes(http, { config, apollo, services, database, store, signingKey, logger });
    const sessionPurge = scheduleSessionPurge({ sessions: services.sessions, emailChanges: services.users, knownDevices: services.sessions, logger, isReady: () => database.isMigrated });

    return {
      config,
      http,
      database,
      store,
      services,
      logger,
      metrics,
      async listen() {
        return http.listen({ port: config.http.port, host: config.http.host });
      },
      async close() {
        // Stopping Apollo drains the HTTP server (the drain plugin closes Fastify, within
        // SHUTDOWN_TIMEOUT), then what those requests left running finishes, within what is
        // left of it, before the back ends go. The session purge stops at once, after the
        // batch it is deleting, within the same time.
        const deadline = Date.now() + config.shutdown.timeoutMs;
        const purgeStopped = sessionPurge.stop(config.shutdown.timeoutMs);
        await apollo.stop();
        await background.settle(Math.max(0, deadline - Date.now()));
        await purgeStopped;
        await closeBackEnds();
      },
    };
  } catch (error) {
    await closeBackEnds();
    throw error;
  }
}

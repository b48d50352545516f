import { ConfigError, loadConfig } from "../config";
import { openDatabase } from "../db/client";

/**
 * Applies the migrations in drizzle/ and exits: `npm run db:migrate`, or
 * `node dist/cli/migrate.js` in the container. With DATABASE_URL it migrates that
 * server; without one, the embedded database under DATA_DIR that `npm start` uses.
 */
async function main(): Promise<string> {
  const config = loadConfig(process.env);
  const database = openDatabase({ ...config.database, maxConnections: 1 });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  return config.database.url ? `PostgreSQL at ${describeServer(config.database.url)}` : `the embedded database in ${config.database.dataDir}`;
}

/** host:port/db only: the URL's password must not reach the log. */
function describeServer(url: string): string {
  const { host, pathname } = new URL(url);
  return `${host}${pathname}`;
}

/** One line: drivers put the failed SQL on further lines, and Node 20 wraps refused connections in an AggregateError. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  const cause = error instanceof Error && error.cause !== undefined ? `: ${describeError(error.cause)}` : "";
  const message = error instanceof Error ? error.message || error.name : String(error);
  return `${message.split("\n")[0]}${cause}`;
}

// Exit explicitly: a driver handle left open must not keep a one-shot migration job running.
main().then(
  (target) => {
    console.log(`migrations applied to ${target}`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `migration failed: ${describeError(error)}`);
    process.exit(1);
  },
);

import type { Logger } from "../logger";
import type { Database } from "./client";
import { MigrationLockHeld } from "./migrate";

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5_000;
const LOG_INTERVAL_MS = 30_000;

export interface StartupMigration {
  /** Stops retrying; resolves once an attempt under way has ended. */
  stop(): Promise<void>;
}

/**
 * Applies the migrations before the service takes traffic. An unreachable database must
 * not stop the service from starting: a crash loop hides the cause, and a process that is
 * up can say what it waits for in /readyz. So when the first attempt fails the migration
 * is retried in the background, the delay doubling up to MAX_RETRY_MS; until one attempt
 * succeeds /readyz names the database and operations that need it are refused
 * (graphql/plugins/require-database.ts). Several instances retrying at once are harmless:
 * an advisory lock applies the migrations once (db/migrate.ts), and an instance that finds
 * it held is refused at once and retries like one that found the database down.
 */
export async function migrateAtStartup(deps: { database: Database; logger: Logger }): Promise<StartupMigration> {
  const { database, logger } = deps;
  let loggedAt = 0;

  async function attempt(): Promise<boolean> {
    try {
      await database.migrate({ wait: false });
      return true;
    } catch (error) {
      // While the database stays down, one line per interval is enough.
      if (Date.now() - loggedAt >= LOG_INTERVAL_MS) {
        loggedAt = Date.now();
        // Instances started together take turns: only a lock held for long says something is wrong.
        if (error instanceof MigrationLockHeld) logger.info(`database migrations not applied yet: ${error.message}; retrying in the background`);
        else logger.error({ err: error }, "database migrations could not be applied; retrying in the background");
      }
      return false;
    }
  }

  if (await attempt()) return { stop: async () => {} };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      running = attempt().then((done) => {
        if (done) logger.info("database migrations applied; the database is ready");
        else if (!stopped) schedule(Math.min(delayMs * 2, MAX_RETRY_MS));
      });
    }, delayMs);
  };
  schedule(FIRST_RETRY_MS);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

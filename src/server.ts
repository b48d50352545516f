import "reflect-metadata";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";

/** libuv's default pool size, kept free for everything that is not a password hash. */
const SPARE_THREADS = 4;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // argon2 runs on libuv's threadpool, which DNS lookups and file reads share: give the pool
  // room beyond the hashes allowed at once (ARGON2_CONCURRENCY). libuv reads this variable when
  // the pool is first used, which nothing has done yet; a value set by the operator is kept.
  process.env.UV_THREADPOOL_SIZE ??= String(config.passwords.hashConcurrency + SPARE_THREADS);
  // Until it listens there is nothing to drain: a signal then stops the start. As PID 1 in a
  // container a signal without a handler is dropped, and the orchestrator would wait for its kill.
  const stopStarting = (signal: string) => {
    console.error(`${signal} while starting: exiting`);
    process.exit(1);
  };
  process.once("SIGTERM", stopStarting).once("SIGINT", stopStarting);
  const app = await createApp(config);
  const url = await app.listen();
  process.removeListener("SIGTERM", stopStarting).removeListener("SIGINT", stopStarting);
  app.logger.info({ url, database: app.database.kind }, "auth service listening");

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      // A second signal is an operator who will not wait for the drain.
      app.logger.warn({ signal }, "second signal: exiting without finishing the shutdown");
      process.exit(1);
    }
    closing = true;
    app.logger.info({ signal }, "shutting down");
    app.close().then(
      () => {
        app.logger.info("stopped: requests drained, database and token store closed");
        process.exit(0);
      },
      (error: unknown) => {
        app.logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  // A bad setting is one clear line, not a stack trace.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});

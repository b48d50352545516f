import "reflect-metadata";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  const url = await app.listen();
  app.logger.info({ url, database: app.database.kind }, "auth service listening");

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
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

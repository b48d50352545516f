import "reflect-metadata";
import { parseArgs } from "node:util";
import { loadSigningKey } from "../auth/signing-key";
import { ConfigError, loadConfig } from "../config";
import { openDatabase } from "../db/client";
import { AppError } from "../errors";
import { createServices } from "../services";

const USAGE = "usage: npm run create-admin -- --email E --password P";

/** Creates an ADMIN account, or promotes an existing one, in DATABASE_URL or the embedded database. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" } } });
  if (!values.email || !values.password) throw new Error(USAGE);
  const config = loadConfig(process.env);
  const database = openDatabase(config.database);
  try {
    await database.migrate();
    const services = await createServices({ config, database, signingKey: loadSigningKey(config.jwt, config.database.dataDir) });
    const { user, created } = await services.userAdmin.provisionAdmin(values.email, values.password);
    console.log(created ? `created admin ${user.email} (${user.id})` : `promoted ${user.email} (${user.id}) to admin; its password is unchanged`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof AppError || error instanceof ConfigError || (error instanceof Error && error.message === USAGE) ? error.message : error);
  process.exit(1);
});

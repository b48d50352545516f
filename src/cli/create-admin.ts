import "reflect-metadata";
import { parseArgs } from "node:util";
import { createPasswordHasher } from "../auth/passwords";
import { createUserAdmin } from "../auth/user-admin";
import { createUsers } from "../auth/users";
import { ConfigError, loadConfig } from "../config";
import { openDatabase } from "../db/client";
import { AppError } from "../errors";

const USAGE = "usage: npm run create-admin -- --email E --password P";

/** Creates an ADMIN account, or promotes an existing one, in DATABASE_URL or the embedded database. */
async function main(): Promise<string> {
  let values: { email?: string; password?: string };
  try {
    ({ values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" } } }));
  } catch {
    // Node's message quotes the argument it could not place: a word of an unquoted password.
    throw new Error(USAGE);
  }
  if (!values.email || !values.password) throw new Error(USAGE);
  const config = loadConfig(process.env);
  const database = openDatabase({ ...config.database, maxConnections: 1 });
  try {
    await database.migrate();
    const { db } = database;
    const users = createUsers({ db });
    const passwords = await createPasswordHasher(config.passwords);
    const admin = createUserAdmin({ db, users, passwords, policy: config.passwords });
    const { user, outcome } = await admin.provisionAdmin(values.email, values.password);
    const account = `${user.email} (${user.id})`;
    switch (outcome) {
      case "created":
        return `created admin ${account}`;
      case "promoted":
        return `promoted ${account} to admin; its password is unchanged`;
      case "already-admin":
        return `${account} is already an admin${user.active ? "" : ", deactivated (an admin reactivates it with setUserActive)"}; nothing changed`;
    }
  } finally {
    await database.close();
  }
}

main().then(
  (line) => {
    console.log(line);
    process.exit(0);
  },
  (error: unknown) => {
    const expected = error instanceof AppError || error instanceof ConfigError || (error instanceof Error && error.message === USAGE);
    console.error(expected ? (error as Error).message : error);
    process.exit(1);
  },
);

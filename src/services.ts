import type { Config } from "./config";
import type { Database } from "./db/client";
import { createAccessTokens } from "./auth/access-tokens";
import { createAccounts } from "./auth/accounts";
import { createPasswordHasher } from "./auth/passwords";
import { createSessions } from "./auth/sessions";
import type { SigningKey } from "./auth/signing-key";
import { createUserAdmin } from "./auth/user-admin";
import { createUsers } from "./auth/users";

export type Services = Awaited<ReturnType<typeof createServices>>;

/** Every domain service, built once and wired by hand. */
export async function createServices(deps: { config: Config; database: Database; signingKey: SigningKey; now?: () => Date }) {
  const { config, database, signingKey, now } = deps;
  const users = createUsers({ db: database.db, now });
  const sessions = createSessions({ db: database.db, config: config.sessions, now });
  const passwords = await createPasswordHasher(config.passwords.argon2);
  const accessTokens = createAccessTokens({ key: signingKey, config: config.jwt, now });
  const accounts = createAccounts({ users, sessions, passwords, accessTokens, config: config.passwords });
  const userAdmin = createUserAdmin({ db: database.db, users, sessions, passwords, policy: config.passwords, now });
  return { users, sessions, passwords, accessTokens, accounts, userAdmin };
}

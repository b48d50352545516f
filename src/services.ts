import type { BackgroundWork } from "./background";
import type { Config } from "./config";
import type { Database } from "./db/client";
import { createAccessTokens } from "./auth/access-tokens";
import { createAccountNotices } from "./auth/account-notices";
import { createEmailChangeRevert } from "./auth/email-change-revert";
import { createAccounts } from "./auth/accounts";
import { createCaptcha } from "./auth/captcha";
import { createEmailVerification } from "./auth/email-verification";
import { createOneTimeTokens } from "./auth/one-time-tokens";
import { createPasswordHasher } from "./auth/passwords";
import { createPasswordReset } from "./auth/password-reset";
import { createRateLimits } from "./auth/rate-limits";
import { createSecurityEvents } from "./auth/security-events";
import { createSessions } from "./auth/sessions";
import type { SigningKey } from "./auth/signing-key";
import { createUserAdmin } from "./auth/user-admin";
import { createUsers } from "./auth/users";
import type { Metrics } from "./http/metrics";
import type { Logger } from "./logger";
import type { Mailer } from "./mail/mailer";
import type { TokenStore } from "./store/token-store";

export type Services = Awaited<ReturnType<typeof createServices>>;

export interface ServiceDeps {
  config: Config;
  database: Database;
  store: TokenStore;
  mailer: Mailer;
  background: BackgroundWork;
  signingKey: SigningKey;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

/** Every domain service, built once and wired by hand. */
export async function createServices(deps: ServiceDeps) {
  const { config, database, store, mailer, background, signingKey, logger, metrics, now } = deps;
  const db = database.db;
  const events = createSecurityEvents({ logger, metrics });
  const users = createUsers({ db, now });
  const sessions = createSessions({ db, config: config.sessions, events, now });
  const passwords = await createPasswordHasher(config.passwords);
  const accessTokens = createAccessTokens({ key: signingKey, config: config.jwt, now });
  const notices = createAccountNotices({ mailer, store, background, enabled: config.mail.notices, now });
  const emailVerification = createEmailVerification({ store, users, mailer, background, logger, events, notices, config: { ttl: config.tokens.emailVerificationTtl, revertTtl: config.tokens.emailChangeRevertTtl } });
  const accounts = createAccounts({ users, sessions, passwords, accessTokens, emailVerification, events, notices, config: config.passwords });
  const rateLimits = createRateLimits({ store, config: config.rateLimits, logger });
  const passwordReset = createPasswordReset({
    store,
    users,
    passwords,
    mailer,
    background,
    logger,
    events,
    rateLimits,
    notices,
    config: { ttl: config.tokens.passwordResetTtl, policy: config.passwords },
  });
  const emailChangeRevert = createEmailChangeRevert({ users, passwords, events, rateLimits, notices, config: { policy: config.passwords } });
  const oneTimeTokens = createOneTimeTokens({ store, sessions, config: config.tokens, now });
  const captcha = createCaptcha({ config: config.captcha });
  const userAdmin = createUserAdmin({ db, users, passwords, policy: config.passwords, events, notices, now });
  return { events, users, sessions, passwords, accounts, emailVerification, emailChangeRevert, passwordReset, oneTimeTokens, rateLimits, captcha, userAdmin };
}

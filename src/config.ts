import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { containsGuessablePart } from "./auth/password-policy";

/** Thrown for any invalid setting; its message is one line that names the variable. */
export class ConfigError extends Error {}

// Every duration fits a GraphQL Int (expiresIn), a JavaScript Date and PostgreSQL's timestamps
// once added to now: larger ones started, then failed every sign-in with a 500.
const MAX_SECONDS = 365 * 86_400;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const duration = z.coerce.number().int().positive().max(MAX_SECONDS);
const seconds = (fallback: number) => duration.default(fallback);
const flag = (fallback: boolean) => z.stringbool().default(fallback);
// Blank values never reach these schemas (parseEnv refuses or drops them): a text setting is set or unset.
const optionalText = z.string().optional();

/** "max/window", e.g. "5/15m": at most `max` calls per window of s(econds), m(inutes) or h(ours). */
const rateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const match = /^\s*(\d+)\s*\/\s*(\d+)\s*([smh])\s*$/.exec(value);
      const windowSeconds = match ? Number(match[2]) * { s: 1, m: 60, h: 3600 }[match[3] as "s" | "m" | "h"] : 0;
      if (!match || Number(match[1]) < 1 || !Number.isSafeInteger(Number(match[1])) || windowSeconds < 1 || windowSeconds > MAX_SECONDS) {
        ctx.addIssue({ code: "custom", message: 'expected "max/window" such as "5/15m", a window of at most a year' });
        return z.NEVER;
      }
      return { max: Number(match[1]), windowSeconds };
    });

// Env files often carry PEM (keys, certificates) on one line with literal "\n".
const optionalPem = optionalText.transform((value) => value?.replace(/\\n/g, "\n"));

const SENTINEL_PORT = 26379;

/** "host:port, host:port" (26379 when a port is left out; IPv6 in brackets): where Redis Sentinel runs. */
const sentinelList = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const sentinels = [];
    for (const entry of value.split(",").map((s) => s.trim()).filter(Boolean)) {
      const match = /^([^\s:]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/.exec(entry);
      const port = Number(match?.[2] ?? SENTINEL_PORT);
      if (!match || port < 1 || port > 65535) {
        // Not the entry itself: a password pasted into it would be printed.
        ctx.addIssue({ code: "custom", message: `expected "host:port, host:port"; entry ${sentinels.length + 1} is not` });
        return z.NEVER;
      }
      sentinels.push({ host: match[1]!.replace(/^\[|\]$/g, ""), port });
    }
    return sentinels;
  });

/** An IP address or a CIDR range, in the forms Fastify's proxy-addr compiles (no netmasks, no zone ids). */
function isProxyAddress(entry: string): boolean {
  const [address = "", prefix, ...rest] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || address.includes("%") || rest.length > 0) return false;
  if (prefix === undefined) return true;
  // proxy-addr throws on a /0 (trusting every address would undo the setting); refuse it here, at start.
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Who may name the client in X-Forwarded-For: nobody (false), the last N proxies (a hop count),
 * or the proxies at these addresses. A client writes the header as it likes and each proxy
 * appends the address it saw, so only the right-most entries are a proxy's word: `true` means
 * the one proxy in front, never every hop.
 */
const trustProxy = z
  .string()
  .default("false")
  .transform((value, ctx): false | number | readonly string[] => {
    const setting = value.trim();
    // The on/off words it took when it was a flag (true, yes, on, 1; false, no, off, 0) keep their meaning.
    const asFlag = z.stringbool().safeParse(setting);
    if (asFlag.success) return asFlag.data ? 1 : false;
    if (/^[1-9]\d*$/.test(setting) && Number.isSafeInteger(Number(setting))) return Number(setting);
    const addresses = value.split(",").map((s) => s.trim()).filter(Boolean);
    const invalid = addresses.length ? addresses.find((entry) => !isProxyAddress(entry)) : value;
    if (invalid === undefined) return Object.freeze(addresses);
    ctx.addIssue({
      code: "custom",
      message: `expected false, true (one proxy), a number of proxies (1 or more) or proxy addresses and CIDR ranges such as "10.0.0.0/8,127.0.0.1"; "${invalid}" is none of these`,
    });
    return z.NEVER;
  });

const Env = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  // An address or a host name: it also names the pages in development's email links.
  HOST: z
    .string()
    .refine((host) => isIP(host) !== 0 || HOST_NAME.test(host), "an IP address or a host name")
    .default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // A scraper's bearer token for /metrics; long enough not to be guessed, and of the characters
  // a header carries as they are (Node reads header bytes as latin1 and trims spaces).
  METRICS_TOKEN: optionalText.pipe(
    z
      .string()
      .min(16)
      .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
      .optional(),
  ),
  // Below Docker's 10 s between SIGTERM and SIGKILL, with time left to close the back ends; at
  // most an hour (a timer beyond 24.8 days fires at once, cutting every request off).
  SHUTDOWN_TIMEOUT: z.coerce.number().int().positive().max(3600).default(5),
  REQUEST_TIMEOUT: z.coerce.number().int().positive().max(3600).default(30),
  TRUST_PROXY: trustProxy,
  CORS_ORIGINS: z.string().default(""),
  GRAPHQL_INTROSPECTION: z.stringbool().optional(),
  // A gateway asks for the users of one step of its query plan at once: a page of them, not thousands.
  FEDERATION_MAX_ENTITIES: z.coerce.number().int().min(1).default(1000),

  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATA_DIR: z.string().min(1).default("./.data"),
  // A statement stuck behind a lock or on a table grown past its index held a pooled
  // connection, and the request, for as long as it took: PostgreSQL cancels it after this.
  // 0 sends none (a PgBouncer that does not track the parameter refuses connections carrying it).
  // At most a day: PostgreSQL refuses a statement_timeout beyond 24.8 days, and then every query.
  DATABASE_STATEMENT_TIMEOUT: z.coerce.number().int().min(0).max(86_400).default(10),
  REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_KEY_PREFIX: z.string().default("auth:"),
  REDIS_SENTINELS: sentinelList,
  REDIS_SENTINEL_PASSWORD: optionalText,
  REDIS_SENTINEL_TLS: z.stringbool().optional(),
  REDIS_CLUSTER: flag(false),
  REDIS_TLS_CA: optionalPem,

  JWT_SECRET: optionalText,
  JWT_PRIVATE_KEY: optionalPem,
  JWT_VERIFICATION_KEYS: optionalPem,
  JWT_ISSUER: z.string().min(1).default("auth-service"),
  JWT_AUDIENCE: z.string().min(1).default("api"),
  ACCESS_TOKEN_TTL: seconds(900),
  REFRESH_TOKEN_TTL: seconds(2_592_000),
  // For a second tab's or a retried request's refresh: at most 5 minutes, since within it the
  // previous token gets the live successor, whoever presents it.
  REFRESH_TOKEN_REUSE_INTERVAL: z.coerce.number().int().min(0).max(300).default(10),

  PASSWORD_RESET_TTL: seconds(1800),
  EMAIL_VERIFICATION_TTL: seconds(86_400),
  // The link that undoes an address change, sent to the address left: long enough for an owner
  // who reads their mail late, short enough that an address given up is not a way in for long.
  EMAIL_CHANGE_REVERT_TTL: seconds(259_200),
  // Unset: 60, or the maximum when that is lower (a maximum set alone must not stop the start).
  ONE_TIME_TOKEN_TTL: duration.optional(),
  ONE_TIME_TOKEN_MAX_TTL: seconds(3600),

  SMTP_URL: optionalText.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  MAIL_FROM: z.string().min(3).default("Auth Service <no-reply@localhost>"),
  // Emails telling an owner that their password or address changed, or their account was deleted.
  ACCOUNT_NOTICES: flag(true),
  // The base the links append "/reset-password?token=…" to: a query would swallow the path. A
  // fragment may stay, for an app that routes on it (https://app.example.com/#).
  FRONTEND_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/ })
      .refine((url) => !url.split("#")[0]!.includes("?"), "a base URL without a query")
      .optional(),
  ),
  ACCOUNT_UI: z.stringbool().optional(),
  REFRESH_TOKEN_COOKIE: flag(false),

  // Defaults stop online guessing without getting in a normal user's way.
  RATE_LIMIT_LOGIN_ACCOUNT: rateLimit("5/15m"),
  RATE_LIMIT_LOGIN_IP: rateLimit("50/15m"),
  RATE_LIMIT_REGISTER_IP: rateLimit("10/1h"),
  RATE_LIMIT_REFRESH_IP: rateLimit("120/1m"),
  RATE_LIMIT_PASSWORD_RESET_EMAIL: rateLimit("3/1h"),
  RATE_LIMIT_PASSWORD_RESET_IP: rateLimit("20/1h"),
  RATE_LIMIT_RESET_PASSWORD_IP: rateLimit("10/15m"),
  RATE_LIMIT_VERIFY_EMAIL_IP: rateLimit("10/15m"),
  RATE_LIMIT_EMAIL_VERIFICATION_USER: rateLimit("3/1h"),
  RATE_LIMIT_ONE_TIME_TOKEN_USER: rateLimit("60/1m"),
  RATE_LIMIT_CHANGE_PASSWORD_USER: rateLimit("5/15m"),

  CAPTCHA_PROVIDER: z.enum(["turnstile", "hcaptcha", "recaptcha"]).optional(),
  CAPTCHA_SECRET: optionalText,
  CAPTCHA_VERIFY_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CAPTCHA_SITE_KEY: optionalText,
  CAPTCHA_SCRIPT_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),

  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(8),
  // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
  // Bounds a hash can run within (argon2 wants 8 KiB a lane: 64 lanes fit in the least memory).
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(1024).max(4 * 1024 * 1024).default(19_456),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).max(64).default(2),
  ARGON2_PARALLELISM: z.coerce.number().int().min(1).max(64).default(1),
  // Hashes computed at once; more than the cores only share them, each hash holding its memory the longer.
  ARGON2_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
  // Calls that may wait for a hash, past which they are refused: 64 per hash at once, 1.5 to 3 s of argon2 work.
  ARGON2_MAX_QUEUE: z.coerce.number().int().min(0).optional(),
});

type Env = z.infer<typeof Env>;

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issue.path.join(".") || "environment";
  return `${name}: ${issue.message}`;
}

/**
 * Settings whose empty value is kept for the schema to judge: an empty key prefix means none,
 * and an empty NODE_ENV is refused rather than taken for development (which would skip every
 * production check).
 */
const BLANK_IS_A_VALUE = new Set(["REDIS_KEY_PREFIX", "NODE_ENV"]);

/**
 * A variable set to nothing (`PORT=`, or compose's `${PORT:-}`) is unset, so its default
 * applies: coerced, an empty number would have been 0 (a random port, no refresh grace, no
 * hashing queue) and an empty flag or choice an error.
 */
function withoutBlanks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => value?.trim() || (value !== undefined && BLANK_IS_A_VALUE.has(name))));
}

/**
 * The settings that carry a secret, each of which may instead name a file that holds it, as
 * `<NAME>_FILE` (Docker's and Kubernetes' secrets are files; compose's setup makes its own).
 */
export const SECRET_FILE_SETTINGS = [
  "DATABASE_URL",
  "REDIS_URL",
  "REDIS_SENTINEL_PASSWORD",
  "JWT_SECRET",
  "JWT_PRIVATE_KEY",
  "JWT_VERIFICATION_KEYS",
  "SMTP_URL",
  "CAPTCHA_SECRET",
  "METRICS_TOKEN",
] as const;

/**
 * The file's content, less its final line break, stands for the setting. Set both ways is
 * refused, and so is an empty file: a secret mounted wrong, which must not pass for unset.
 */
function withSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved = { ...env };
  for (const name of SECRET_FILE_SETTINGS) {
    const file = env[`${name}_FILE`];
    if (file === undefined) continue;
    if (env[name] !== undefined) throw new ConfigError(`Invalid configuration: set ${name} or ${name}_FILE, not both`);
    let content: string;
    try {
      content = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (error) {
      throw new ConfigError(`Invalid configuration: ${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    if (!content.trim()) throw new ConfigError(`Invalid configuration: ${name}_FILE: ${file} is empty`);
    resolved[name] = content;
  }
  return resolved;
}

function parseEnv(env: NodeJS.ProcessEnv): Env {
  const result = Env.safeParse(withSecretFiles(withoutBlanks(env)));
  if (!result.success) {
    throw new ConfigError(`Invalid configuration: ${result.error.issues.map(describeIssue).join("; ")}`);
  }
  return result.data;
}

function checkProduction(e: Env): void {
  if (e.NODE_ENV !== "production") return;
  if (!e.DATABASE_URL) throw new ConfigError("Invalid configuration: DATABASE_URL is required when NODE_ENV=production");
  if (!e.JWT_SECRET && !e.JWT_PRIVATE_KEY) {
    throw new ConfigError("Invalid configuration: JWT_SECRET or JWT_PRIVATE_KEY is required when NODE_ENV=production");
  }
}

function checkMail(e: Env): void {
  if (e.NODE_ENV === "production" && !e.SMTP_URL) {
    throw new ConfigError("Invalid configuration: SMTP_URL is required when NODE_ENV=production (emails are only logged without it)");
  }
  // Its default names this process's own host and port, which users' browsers do not reach:
  // every reset and verification link would be dead.
  if (e.NODE_ENV === "production" && !e.FRONTEND_URL) {
    throw new ConfigError("Invalid configuration: FRONTEND_URL is required when NODE_ENV=production (the base of the links in emails)");
  }
  requireHttpsInProduction(e, "FRONTEND_URL", "the links in emails carry tokens");
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** In production a URL that tokens or secrets travel to is https, but on the machine itself. */
function requireHttpsInProduction(e: Env, name: "FRONTEND_URL" | "CAPTCHA_VERIFY_URL", why: string): void {
  const value = e[name];
  if (e.NODE_ENV !== "production" || !value) return;
  const url = new URL(value);
  if (url.protocol === "http:" && !LOOPBACK_HOST.test(url.hostname)) {
    throw new ConfigError(`Invalid configuration: ${name} must be https when NODE_ENV=production (${why})`);
  }
}

// Services that verify access tokens offline accept one until it expires, whatever happened to
// its session: a revocation reaches them only that late.
const MAX_PRODUCTION_ACCESS_TOKEN_TTL = 86_400;

function checkTokens(e: Env): void {
  if (e.ONE_TIME_TOKEN_TTL !== undefined && e.ONE_TIME_TOKEN_TTL > e.ONE_TIME_TOKEN_MAX_TTL) {
    throw new ConfigError("Invalid configuration: ONE_TIME_TOKEN_TTL must not exceed ONE_TIME_TOKEN_MAX_TTL");
  }
  if (e.NODE_ENV === "production" && e.ACCESS_TOKEN_TTL > MAX_PRODUCTION_ACCESS_TOKEN_TTL) {
    throw new ConfigError(
      `Invalid configuration: ACCESS_TOKEN_TTL must be at most ${MAX_PRODUCTION_ACCESS_TOKEN_TTL} when NODE_ENV=production (services verifying offline accept a token until it expires)`,
    );
  }
}

const SITEVERIFY = {
  turnstile: "https://challenges.cloudflare.com/turnstile/v0/siteverify",
  hcaptcha: "https://api.hcaptcha.com/siteverify",
  recaptcha: "https://www.google.com/recaptcha/api/siteverify",
} as const;

/** The widget's script, rendered by the account pages when they call for it (explicit rendering). */
const WIDGET_SCRIPT = {
  turnstile: "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit",
  hcaptcha: "https://js.hcaptcha.com/1/api.js?render=explicit",
  recaptcha: "https://www.google.com/recaptcha/api.js?render=explicit",
} as const;

function captchaConfig(e: Env, accountUi: boolean) {
  if (!e.CAPTCHA_PROVIDER) return undefined;
  requireHttpsInProduction(e, "CAPTCHA_VERIFY_URL", "each check sends CAPTCHA_SECRET there");
  if (!e.CAPTCHA_SECRET) throw new ConfigError("Invalid configuration: CAPTCHA_SECRET is required when CAPTCHA_PROVIDER is set");
  if (accountUi && !e.CAPTCHA_SITE_KEY) {
    throw new ConfigError("Invalid configuration: CAPTCHA_SITE_KEY is required when CAPTCHA_PROVIDER is set and ACCOUNT_UI=true: the pages' forms show the widget");
  }
  return Object.freeze({
    provider: e.CAPTCHA_PROVIDER,
    secret: e.CAPTCHA_SECRET,
    verifyUrl: e.CAPTCHA_VERIFY_URL ?? SITEVERIFY[e.CAPTCHA_PROVIDER],
    siteKey: e.CAPTCHA_SITE_KEY,
    scriptUrl: e.CAPTCHA_SCRIPT_URL ?? WIDGET_SCRIPT[e.CAPTCHA_PROVIDER],
  });
}

/** rediss:// means TLS to the sentinels as well, unless REDIS_SENTINEL_TLS says otherwise. */
function redisTls(e: Env) {
  const url = e.REDIS_URL?.startsWith("rediss:") ?? false;
  return { url, sentinels: e.REDIS_SENTINELS.length > 0 && (e.REDIS_SENTINEL_TLS ?? url) };
}

/** A setting that would be ignored is refused: a TLS setting that protects nothing is a mistake. */
function checkRedis(e: Env, tls: ReturnType<typeof redisTls>): void {
  if (e.REDIS_SENTINELS.length && !e.REDIS_URL) {
    throw new ConfigError("Invalid configuration: REDIS_SENTINELS needs REDIS_URL, whose host names the master group (redis://mymaster/0)");
  }
  if (e.REDIS_CLUSTER) {
    if (!e.REDIS_URL) throw new ConfigError("Invalid configuration: REDIS_CLUSTER needs REDIS_URL, one node of the cluster (redis://node:6379)");
    if (e.REDIS_SENTINELS.length) throw new ConfigError("Invalid configuration: REDIS_CLUSTER and REDIS_SENTINELS exclude each other");
    if (!["", "/", "/0"].includes(new URL(e.REDIS_URL).pathname)) {
      throw new ConfigError("Invalid configuration: a Redis Cluster has database 0 only; leave it out of REDIS_URL");
    }
  }
  if (e.REDIS_SENTINEL_TLS !== undefined && !e.REDIS_SENTINELS.length) {
    throw new ConfigError("Invalid configuration: REDIS_SENTINEL_TLS needs REDIS_SENTINELS");
  }
  if (e.REDIS_TLS_CA === undefined) return;
  if (!tls.url && !tls.sentinels) throw new ConfigError("Invalid configuration: REDIS_TLS_CA needs a rediss:// REDIS_URL or REDIS_SENTINEL_TLS=true");
  try {
    new X509Certificate(e.REDIS_TLS_CA);
  } catch {
    throw new ConfigError("Invalid configuration: REDIS_TLS_CA must hold PEM certificates");
  }
}

function checkVerificationKeys(e: Env): void {
  if (e.JWT_VERIFICATION_KEYS && !e.JWT_PRIVATE_KEY) {
    throw new ConfigError("Invalid configuration: JWT_VERIFICATION_KEYS needs JWT_PRIVATE_KEY (HS256 tokens carry no key id to choose a key by)");
  }
}

// Words of a value written to be replaced, the default this repository's compose file once
// published among them: anyone can sign tokens with such a secret.
const PLACEHOLDER_SECRET = /change.?(me|it|this)|placeholder|example|replace.?(me|this)|dev.?only|insecure|your.?(jwt.?)?secret|override.?in.?production/i;

function checkSecret(e: Env): void {
  if (e.JWT_SECRET === undefined || e.JWT_PRIVATE_KEY) return;
  if (Buffer.byteLength(e.JWT_SECRET) < 32) {
    throw new ConfigError("Invalid configuration: JWT_SECRET must be at least 32 bytes");
  }
  if (e.NODE_ENV === "production" && (new Set(e.JWT_SECRET).size < 8 || PLACEHOLDER_SECRET.test(e.JWT_SECRET))) {
    throw new ConfigError("Invalid configuration: JWT_SECRET looks like a placeholder; use a random value");
  }
  // Whoever holds one access token can test guesses at the secret offline: one built on
  // words or patterns people use falls to a list. Random bytes hold none (openssl rand -base64 32).
  if (e.NODE_ENV === "production" && containsGuessablePart(e.JWT_SECRET)) {
    throw new ConfigError("Invalid configuration: JWT_SECRET contains a common password, a repeat or a sequence; use a random value (openssl rand -base64 32)");
  }
}

// OWASP's argon2id configurations run from 46 MiB × 1 pass to 7 MiB × 5 passes: below the
// last one's memory × passes, a guess costs an attacker less than any of them.
const MIN_ARGON2_MEMORY_KIB = 7 * 1024;
const MIN_ARGON2_WORK_KIB = MIN_ARGON2_MEMORY_KIB * 5;

function checkArgon2(e: Env): void {
  // Memory is what a GPU lacks: passes do not make up for less of it than OWASP's least.
  if (e.NODE_ENV === "production" && e.ARGON2_MEMORY_KIB < MIN_ARGON2_MEMORY_KIB) {
    throw new ConfigError(`Invalid configuration: ARGON2_MEMORY_KIB is ${e.ARGON2_MEMORY_KIB}, under OWASP's least argon2id memory (${MIN_ARGON2_MEMORY_KIB} KiB); production refuses it`);
  }
  if (e.NODE_ENV === "production" && e.ARGON2_MEMORY_KIB * e.ARGON2_TIME_COST < MIN_ARGON2_WORK_KIB) {
    throw new ConfigError(
      `Invalid configuration: ARGON2_MEMORY_KIB × ARGON2_TIME_COST is ${e.ARGON2_MEMORY_KIB * e.ARGON2_TIME_COST}, under OWASP's least argon2id cost (${MIN_ARGON2_WORK_KIB}: 7168 KiB × 5); production refuses it`,
    );
  }
}

/** Reads, validates and freezes every setting. The only reader of process.env. */
export function loadConfig(env: NodeJS.ProcessEnv) {
  const e = parseEnv(env);
  checkProduction(e);
  checkSecret(e);
  checkArgon2(e);
  checkVerificationKeys(e);
  const tls = redisTls(e);
  checkRedis(e, tls);
  checkMail(e);
  checkTokens(e);
  const isProduction = e.NODE_ENV === "production";
  // With a captcha but no site key the pages' forms could not show the widget: off unless asked for.
  const accountUi = e.ACCOUNT_UI ?? (!isProduction && !(e.CAPTCHA_PROVIDER && !e.CAPTCHA_SITE_KEY));
  // An IPv6 address goes in brackets in a URL (http://[::1]:4000).
  const publicHost = e.HOST === "0.0.0.0" || e.HOST === "::" ? "localhost" : isIP(e.HOST) === 6 ? `[${e.HOST}]` : e.HOST;

  return Object.freeze({
    env: e.NODE_ENV,
    isProduction,
    http: Object.freeze({
      port: e.PORT,
      host: e.HOST,
      trustProxy: e.TRUST_PROXY,
      corsOrigins: e.CORS_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
      introspection: e.GRAPHQL_INTROSPECTION ?? !isProduction,
      maxEntities: e.FEDERATION_MAX_ENTITIES,
      requestTimeoutMs: e.REQUEST_TIMEOUT * 1000,
      // Browsers may also carry the refresh token in an HttpOnly cookie, which page scripts cannot read.
      refreshTokenCookie: e.REFRESH_TOKEN_COOKIE,
    }),
    log: Object.freeze({ level: e.LOG_LEVEL }),
    metrics: Object.freeze({ token: e.METRICS_TOKEN }),
    shutdown: Object.freeze({ timeoutMs: e.SHUTDOWN_TIMEOUT * 1000 }),
    database: Object.freeze({ url: e.DATABASE_URL, dataDir: e.DATA_DIR, statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT * 1000 }),
    redis: Object.freeze({
      url: e.REDIS_URL,
      keyPrefix: e.REDIS_KEY_PREFIX,
      // With Sentinel, REDIS_URL's host is the master group's name and the sentinels say where it is.
      sentinels: e.REDIS_SENTINELS.length
        ? Object.freeze({ addresses: e.REDIS_SENTINELS, password: e.REDIS_SENTINEL_PASSWORD, tls: tls.sentinels })
        : undefined,
      cluster: e.REDIS_CLUSTER,
      // The authorities that sign the Redis servers' certificates, when not a public one.
      tlsCa: e.REDIS_TLS_CA,
    }),
    jwt: Object.freeze({
      secret: e.JWT_SECRET,
      privateKey: e.JWT_PRIVATE_KEY,
      // Keys that verify tokens and never sign: the previous key after a rotation, the next one before it.
      verificationKeys: e.JWT_VERIFICATION_KEYS,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenTtl: e.ACCESS_TOKEN_TTL,
    }),
    sessions: Object.freeze({
      refreshTokenTtl: e.REFRESH_TOKEN_TTL,
      reuseInterval: e.REFRESH_TOKEN_REUSE_INTERVAL,
    }),
    tokens: Object.freeze({
      passwordResetTtl: e.PASSWORD_RESET_TTL,
      emailVerificationTtl: e.EMAIL_VERIFICATION_TTL,
      emailChangeRevertTtl: e.EMAIL_CHANGE_REVERT_TTL,
      oneTimeTokenTtl: e.ONE_TIME_TOKEN_TTL ?? Math.min(60, e.ONE_TIME_TOKEN_MAX_TTL),
      oneTimeTokenMaxTtl: e.ONE_TIME_TOKEN_MAX_TTL,
    }),
    mail: Object.freeze({
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM,
      notices: e.ACCOUNT_NOTICES,
      // Links in emails point at the hosted account pages when they are served.
      frontendUrl: (e.FRONTEND_URL ?? (accountUi ? `http://${publicHost}:${e.PORT}/account` : "http://localhost:3000")).replace(/\/$/, ""),
    }),
    accountUi,
    captcha: captchaConfig(e, accountUi),
    // Per operation: who is counted (the client address, the email in the arguments, or the
    // caller) and how often. failuresOnly: a call that succeeds gives its count back;
    // successesOnly: a call that fails does (it sent no email).
    rateLimits: Object.freeze({
      login: [
        { by: "email", ...e.RATE_LIMIT_LOGIN_ACCOUNT, failuresOnly: true },
        { by: "ip", ...e.RATE_LIMIT_LOGIN_IP },
      ],
      register: [{ by: "ip", ...e.RATE_LIMIT_REGISTER_IP }],
      refreshToken: [{ by: "ip", ...e.RATE_LIMIT_REFRESH_IP }],
      requestPasswordReset: [
        { by: "email", ...e.RATE_LIMIT_PASSWORD_RESET_EMAIL },
        { by: "ip", ...e.RATE_LIMIT_PASSWORD_RESET_IP },
      ],
      resetPassword: [{ by: "ip", ...e.RATE_LIMIT_RESET_PASSWORD_IP }],
      verifyEmail: [{ by: "ip", ...e.RATE_LIMIT_VERIFY_EMAIL_IP }],
      requestEmailVerification: [{ by: "user", ...e.RATE_LIMIT_EMAIL_VERIFICATION_USER, successesOnly: true }],
      issueOneTimeToken: [{ by: "user", ...e.RATE_LIMIT_ONE_TIME_TOKEN_USER }],
      consumeOneTimeToken: [{ by: "user", ...e.RATE_LIMIT_ONE_TIME_TOKEN_USER }],
      changePassword: [{ by: "user", ...e.RATE_LIMIT_CHANGE_PASSWORD_USER, failuresOnly: true }],
    } satisfies Record<string, readonly RateLimitRule[]>),
    passwords: Object.freeze({
      minLength: e.PASSWORD_MIN_LENGTH,
      maxLength: 128,
      argon2: Object.freeze({
        memoryCost: e.ARGON2_MEMORY_KIB,
        timeCost: e.ARGON2_TIME_COST,
        parallelism: e.ARGON2_PARALLELISM,
      }),
      hashConcurrency: e.ARGON2_CONCURRENCY,
      maxQueue: e.ARGON2_MAX_QUEUE ?? 64 * e.ARGON2_CONCURRENCY,
    }),
  });
}

export interface RateLimitRule {
  by: "ip" | "email" | "user";
  max: number;
  windowSeconds: number;
  failuresOnly?: boolean;
  successesOnly?: boolean;
}

export type Config = ReturnType<typeof loadConfig>;
export type RateLimitedOperation = keyof Config["rateLimits"];

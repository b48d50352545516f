import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { ConfigError, loadConfig } from "../../src/config";

const SECRET = "k3Jf9-q2Lw8xZp0aVb7nR4tY6uE1iO5sD";

describe("loadConfig", () => {
  test("gives the contract's defaults", () => {
    const config = loadConfig({});
    expect(config.http).toMatchObject({ port: 4000, host: "0.0.0.0", corsOrigins: [], trustProxy: false });
    expect(config.jwt).toMatchObject({ issuer: "auth-service", audience: "api", accessTokenTtl: 900 });
    expect(config.sessions).toEqual({ refreshTokenTtl: 2_592_000, reuseInterval: 10 });
    expect(config.passwords.minLength).toBe(8);
    expect(config.passwords.argon2).toEqual({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    expect(config.redis.keyPrefix).toBe("auth:");
    expect(config.database).toEqual({ url: undefined, dataDir: "./.data", statementTimeoutMs: 10_000 });
    expect(config.tokens).toEqual({ passwordResetTtl: 1800, emailVerificationTtl: 86_400, emailChangeRevertTtl: 259_200, oneTimeTokenTtl: 60, oneTimeTokenMaxTtl: 3600 });
    expect(config.mail.frontendUrl).toBe("http://localhost:4000/account");
  });

  test("a variable set to nothing is unset: its default applies", () => {
    const blank = loadConfig({ PORT: "", REFRESH_TOKEN_REUSE_INTERVAL: " ", ARGON2_MAX_QUEUE: "", ARGON2_CONCURRENCY: "", GRAPHQL_INTROSPECTION: "", CAPTCHA_PROVIDER: "", HOST: "", TRUST_PROXY: "" });
    const unset = loadConfig({});
    expect(blank.http).toEqual(unset.http);
    expect(blank.sessions.reuseInterval).toBe(10);
    expect(blank.passwords).toEqual(unset.passwords);
    expect(blank.captcha).toEqual(unset.captcha);
    // Except the key prefix, where empty means none, and NODE_ENV, which must not fall back to development.
    expect(loadConfig({ REDIS_KEY_PREFIX: "" }).redis.keyPrefix).toBe("");
    expect(() => loadConfig({ NODE_ENV: "" })).toThrow(/^Invalid configuration: NODE_ENV: /);
  });

  test("links in emails name the host the service listens on, an IPv6 address in brackets", () => {
    expect(loadConfig({ HOST: "::1", PORT: "4100" }).mail.frontendUrl).toBe("http://[::1]:4100/account");
    expect(loadConfig({ HOST: "127.0.0.1" }).mail.frontendUrl).toBe("http://127.0.0.1:4000/account");
    expect(loadConfig({ HOST: "::" }).mail.frontendUrl).toBe("http://localhost:4000/account");
    expect(loadConfig({ HOST: "auth.internal" }).mail.frontendUrl).toBe("http://auth.internal:4000/account");
    // Anything else would make nonsense of the links ("http://evil.example/#:4000/account").
    for (const host of ["evil.example/#", "a b", "host:4000", "-leading.example"]) expect(() => loadConfig({ HOST: host })).toThrow(/^Invalid configuration: HOST/);
  });

  test("is frozen", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.jwt)).toBe(true);
  });

  test("a bad value stops the start with one line naming the variable", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/^Invalid configuration: PORT: /);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: "-5" })).toThrow(/ACCESS_TOKEN_TTL/);
    expect(() => loadConfig({ PASSWORD_MIN_LENGTH: "6" })).toThrow(/PASSWORD_MIN_LENGTH/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ TRUST_PROXY: "perhaps" })).toThrow(/TRUST_PROXY/);
    // The links append /reset-password?token=… to it.
    expect(() => loadConfig({ FRONTEND_URL: "https://app.example.com/app?lang=en" })).toThrow(/FRONTEND_URL: .*without a query/);
    expect(loadConfig({ FRONTEND_URL: "https://app.example.com/#" }).mail.frontendUrl).toBe("https://app.example.com/#");
    // Larger would not fit expiresIn (a GraphQL Int) or a date once added to now: every sign-in failed.
    for (const name of ["ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL", "REFRESH_TOKEN_REUSE_INTERVAL", "PASSWORD_RESET_TTL", "ONE_TIME_TOKEN_MAX_TTL"]) {
      expect(() => loadConfig({ [name]: "2147483648" })).toThrow(new RegExp(`^Invalid configuration: ${name}: `));
    }
    expect(loadConfig({ REFRESH_TOKEN_TTL: String(365 * 86_400) }).sessions.refreshTokenTtl).toBe(365 * 86_400);
    // 0 sends no statement timeout (for a pooler that refuses the startup parameter); a negative one is refused.
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT: "0" }).database.statementTimeoutMs).toBe(0);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: "-1" })).toThrow(/DATABASE_STATEMENT_TIMEOUT/);
    // A one-time token's lifetime defaults to 60 s, or to a maximum set lower; set above the maximum, it is refused.
    expect(loadConfig({}).tokens).toMatchObject({ oneTimeTokenTtl: 60, oneTimeTokenMaxTtl: 3600 });
    expect(loadConfig({ ONE_TIME_TOKEN_MAX_TTL: "30" }).tokens).toMatchObject({ oneTimeTokenTtl: 30, oneTimeTokenMaxTtl: 30 });
    expect(() => loadConfig({ ONE_TIME_TOKEN_TTL: "31", ONE_TIME_TOKEN_MAX_TTL: "30" })).toThrow(/ONE_TIME_TOKEN_TTL must not exceed ONE_TIME_TOKEN_MAX_TTL/);
    try {
      loadConfig({ PORT: "eighty" });
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
    }
  });

  test("TRUST_PROXY: false, true (one proxy), a number of proxies, or the proxies' addresses and CIDR ranges", () => {
    const trustProxy = (value: string | undefined) => loadConfig({ TRUST_PROXY: value }).http.trustProxy;
    expect(trustProxy(undefined)).toBe(false);
    expect(trustProxy("false")).toBe(false);
    // The words of the on/off flag it used to be keep their meaning.
    expect(trustProxy("off")).toBe(false);
    expect(trustProxy("0")).toBe(false);
    expect(trustProxy("yes")).toBe(1);
    // Not "every hop": a client writes the left of X-Forwarded-For itself.
    expect(trustProxy("true")).toBe(1);
    expect(trustProxy("TRUE")).toBe(1);
    expect(trustProxy("1")).toBe(1);
    expect(trustProxy("3")).toBe(3);
    expect(trustProxy("10.0.0.0/8, 127.0.0.1,::1, fd00::/8")).toEqual(["10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"]);
    expect(Object.isFrozen(trustProxy("127.0.0.1"))).toBe(true);
  });

  test.each(["-1", "1.5", "abc", "300.1.1.1", "10.0.0.0/33", "10.0.0.0/0", "::/0", "::1/129", "10.0.0.0/255.0.0.0", "fe80::1%eth0", "10.0.0.0/8,proxy"])(
    "TRUST_PROXY=%j stops the start with one line naming the setting",
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/^Invalid configuration: TRUST_PROXY: expected false, true \(one proxy\), a number of proxies/);
    },
  );

  test("argon2 costs stay within what a hash can run at, and production refuses one under OWASP's least", () => {
    expect(() => loadConfig({ ARGON2_PARALLELISM: "16777216" })).toThrow(/^Invalid configuration: ARGON2_PARALLELISM/);
    expect(() => loadConfig({ ARGON2_TIME_COST: "4294967296" })).toThrow(/^Invalid configuration: ARGON2_TIME_COST/);
    expect(() => loadConfig({ ARGON2_MEMORY_KIB: "4294967296" })).toThrow(/^Invalid configuration: ARGON2_MEMORY_KIB/);
    const production = { NODE_ENV: "production", DATABASE_URL: "postgres://db/auth", JWT_SECRET: SECRET, SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" };
    expect(() => loadConfig({ ...production, ARGON2_MEMORY_KIB: "7168", ARGON2_TIME_COST: "4" })).toThrow(/under OWASP's least argon2id cost/);
    expect(() => loadConfig({ ...production, ARGON2_MEMORY_KIB: "7168", ARGON2_TIME_COST: "5" })).not.toThrow();
    expect(() => loadConfig({ ...production, ARGON2_MEMORY_KIB: "47104", ARGON2_TIME_COST: "1" })).not.toThrow();
    // Passes do not make up for memory, which is what a GPU lacks.
    expect(() => loadConfig({ ...production, ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "35" })).toThrow(/under OWASP's least argon2id memory/);
    // Outside production a cheap hash is allowed: the tests and a laptop use one.
    expect(loadConfig({ ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1" }).passwords.argon2).toMatchObject({ memoryCost: 1024, timeCost: 1 });
  });

  test("refuses a JWT_SECRET shorter than 32 bytes", () => {
    expect(() => loadConfig({ JWT_SECRET: "too-short" })).toThrow(/JWT_SECRET must be at least 32 bytes/);
    // Counted in bytes: 16 two-byte characters are 32 of them, 31 ASCII characters are not.
    expect(() => loadConfig({ JWT_SECRET: "k3+Vq9#mZ-x7Lw!2pR8@tY4&nB6$hJ0" })).toThrow(/JWT_SECRET must be at least 32 bytes/);
    expect(() => loadConfig({ JWT_SECRET: "k3+Vq9#mZ-x7Lw!2pR8@tY4&nB6$hJ0w" })).not.toThrow();
    expect(() => loadConfig({ JWT_SECRET: "ßøåœæþðđŋħĸłµñçé" })).not.toThrow();
  });

  test("production refuses to start without DATABASE_URL, a real secret, a mail transport and the links' base", () => {
    const production = { NODE_ENV: "production", DATABASE_URL: "postgres://db/auth", JWT_SECRET: SECRET, SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" };
    expect(() => loadConfig(production)).not.toThrow();
    expect(() => loadConfig({ ...production, DATABASE_URL: "" })).toThrow(/DATABASE_URL is required/);
    expect(() => loadConfig({ ...production, JWT_SECRET: undefined })).toThrow(/JWT_SECRET or JWT_PRIVATE_KEY is required/);
    expect(() => loadConfig({ ...production, JWT_SECRET: "a".repeat(40) })).toThrow(/placeholder/);
    // What this repository's compose file once set, and values written to be replaced.
    for (const placeholder of ["dev-only-jwt-secret-override-in-production-0123456789", "change-me-change-me-change-me-change-me", "your-jwt-secret-goes-here-at-least-32-bytes", "an-example-secret-for-the-readme-1234567"]) {
      expect(() => loadConfig({ ...production, JWT_SECRET: placeholder })).toThrow(/JWT_SECRET looks like a placeholder/);
      expect(() => loadConfig({ JWT_SECRET: placeholder })).not.toThrow();
    }
    expect(() => loadConfig({ ...production, SMTP_URL: undefined })).toThrow(/SMTP_URL is required/);
    expect(() => loadConfig({ ...production, FRONTEND_URL: undefined })).toThrow(/FRONTEND_URL is required/);
    expect(() => loadConfig({ ...production, FRONTEND_URL: undefined, ACCOUNT_UI: "true" })).toThrow(/FRONTEND_URL is required/);
  });

  test("production refuses a JWT_SECRET a person wrote, and takes random bytes however they are written", () => {
    const production = { NODE_ENV: "production", DATABASE_URL: "postgres://db/auth", SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" };
    for (const guessable of ["password123password123password123", "abcdefghabcdefghabcdefghabcdefgh", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa12345678", "MyCompanyJwtSigningKey2024!MyCompanyJwt", "qwertyuiopasdfghjklzxcvbnm123456"]) {
      expect(() => loadConfig({ ...production, JWT_SECRET: guessable })).toThrow(/JWT_SECRET contains a common password, a repeat or a sequence/);
    }
    // 32 bytes as random as any, the same in every run (a check that refused random bytes by chance would show here, every time).
    for (let i = 0; i < 200; i++) {
      const bytes = createHash("sha256").update(`secret ${i}`).digest();
      for (const encoding of ["hex", "base64", "base64url"] as const) {
        expect(() => loadConfig({ ...production, JWT_SECRET: bytes.toString(encoding) })).not.toThrow();
      }
    }
  });

  test("production sends tokens and secrets over https only, but to the machine itself", () => {
    const production = { NODE_ENV: "production", DATABASE_URL: "postgres://db/auth", JWT_SECRET: SECRET, SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" };
    expect(() => loadConfig({ ...production, FRONTEND_URL: "http://app.example.com" })).toThrow(/FRONTEND_URL must be https/);
    expect(() => loadConfig({ ...production, FRONTEND_URL: "http://localhost:3000" })).not.toThrow();
    expect(() => loadConfig({ FRONTEND_URL: "http://app.example.com" })).not.toThrow();
    const captcha = { CAPTCHA_PROVIDER: "turnstile", CAPTCHA_SECRET: "captcha-secret-value" };
    expect(() => loadConfig({ ...production, ...captcha, CAPTCHA_VERIFY_URL: "http://captcha.example.com/siteverify" })).toThrow(/CAPTCHA_VERIFY_URL must be https/);
    expect(() => loadConfig({ ...production, ...captcha, CAPTCHA_VERIFY_URL: "http://127.0.0.1:8080/siteverify" })).not.toThrow();
  });

  test("production keeps access tokens to a day: services verifying offline accept one until it expires", () => {
    const production = { NODE_ENV: "production", DATABASE_URL: "postgres://db/auth", JWT_SECRET: SECRET, SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" };
    expect(() => loadConfig({ ...production, ACCESS_TOKEN_TTL: "86401" })).toThrow(/ACCESS_TOKEN_TTL must be at most 86400/);
    expect(loadConfig({ ...production, ACCESS_TOKEN_TTL: "86400" }).jwt.accessTokenTtl).toBe(86_400);
    expect(loadConfig({ ACCESS_TOKEN_TTL: "604800" }).jwt.accessTokenTtl).toBe(604_800);
  });

  test("timeouts a timer or PostgreSQL can hold, and a reuse interval of minutes", () => {
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT: "3601" })).toThrow(/^Invalid configuration: SHUTDOWN_TIMEOUT/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: "2592000" })).toThrow(/^Invalid configuration: DATABASE_STATEMENT_TIMEOUT/);
    expect(() => loadConfig({ REFRESH_TOKEN_REUSE_INTERVAL: "301" })).toThrow(/^Invalid configuration: REFRESH_TOKEN_REUSE_INTERVAL/);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: "3600", DATABASE_STATEMENT_TIMEOUT: "86400", REFRESH_TOKEN_REUSE_INTERVAL: "300" }).sessions.reuseInterval).toBe(300);
  });

  test("production turns introspection and the account pages off unless asked", () => {
    const production = { NODE_ENV: "production", DATABASE_URL: "postgres://db/auth", JWT_SECRET: SECRET, SMTP_URL: "smtp://mail:25", FRONTEND_URL: "https://app.example.com" };
    expect(loadConfig(production).http.introspection).toBe(false);
    expect(loadConfig(production).accountUi).toBe(false);
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: "true" }).http.introspection).toBe(true);
    expect(loadConfig({}).http.introspection).toBe(true);
  });

  test("reads PEM keys written on one line with literal \\n", () => {
    expect(loadConfig({ JWT_PRIVATE_KEY: "-----BEGIN KEY-----\\nabc\\n-----END KEY-----" }).jwt.privateKey).toBe(
      "-----BEGIN KEY-----\nabc\n-----END KEY-----",
    );
  });

  test("Redis Sentinel: a list of host:port (26379 by default) beside a REDIS_URL naming the master group", () => {
    const config = loadConfig({ REDIS_URL: "redis://:pw@auth-primary/2", REDIS_SENTINELS: "s1:26380, s2,[::1]:26381", REDIS_SENTINEL_PASSWORD: "sentinel-pw" });
    expect(config.redis.sentinels).toEqual({
      addresses: [
        { host: "s1", port: 26380 },
        { host: "s2", port: 26379 },
        { host: "::1", port: 26381 },
      ],
      password: "sentinel-pw",
      tls: false,
    });
    expect(loadConfig({ REDIS_URL: "redis://localhost:6379/0" }).redis.sentinels).toBeUndefined();
    expect(() => loadConfig({ REDIS_URL: "redis://m/0", REDIS_SENTINELS: "s1:99999" })).toThrow(/^Invalid configuration: REDIS_SENTINELS: .*entry 1 is not/);
    // Never the entry itself: a password pasted into it would be printed.
    expect(() => loadConfig({ REDIS_URL: "redis://m/0", REDIS_SENTINELS: "s1:26379, s2:26379:pasted-password" })).toThrow(/^Invalid configuration: REDIS_SENTINELS: expected "host:port, host:port"; entry 2 is not$/);
    expect(() => loadConfig({ REDIS_URL: "redis://m/0", REDIS_SENTINELS: "s1:port" })).toThrow(/REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_SENTINELS: "s1:26379" })).toThrow(/REDIS_SENTINELS needs REDIS_URL/);
  });

  test("Redis Cluster: REDIS_URL names one node, alone, and database 0", () => {
    expect(loadConfig({ REDIS_URL: "redis://:pw@node-1:7000", REDIS_CLUSTER: "true" }).redis.cluster).toBe(true);
    expect(loadConfig({ REDIS_URL: "rediss://node-1:7000/0", REDIS_CLUSTER: "true" }).redis.cluster).toBe(true);
    expect(loadConfig({ REDIS_URL: "redis://node-1:7000" }).redis.cluster).toBe(false);
    expect(() => loadConfig({ REDIS_CLUSTER: "true" })).toThrow(/REDIS_CLUSTER needs REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: "redis://node-1:7000/2", REDIS_CLUSTER: "true" })).toThrow(/database 0 only/);
    expect(() => loadConfig({ REDIS_URL: "redis://group/0", REDIS_SENTINELS: "s1", REDIS_CLUSTER: "true" })).toThrow(/exclude each other/);
  });

  test("Redis TLS: rediss:// covers the sentinels unless REDIS_SENTINEL_TLS says otherwise, and REDIS_TLS_CA must be certificates used somewhere", () => {
    const sentinels = { REDIS_SENTINELS: "s1" };
    expect(loadConfig({ REDIS_URL: "rediss://group/0", ...sentinels }).redis.sentinels?.tls).toBe(true);
    expect(loadConfig({ REDIS_URL: "rediss://group/0", ...sentinels, REDIS_SENTINEL_TLS: "false" }).redis.sentinels?.tls).toBe(false);
    expect(loadConfig({ REDIS_URL: "redis://group/0", ...sentinels, REDIS_SENTINEL_TLS: "true" }).redis.sentinels?.tls).toBe(true);
    expect(() => loadConfig({ REDIS_URL: "rediss://host/0", REDIS_SENTINEL_TLS: "true" })).toThrow(/REDIS_SENTINEL_TLS needs REDIS_SENTINELS/);

    const ca = tls.rootCertificates[0]!;
    expect(loadConfig({ REDIS_URL: "rediss://host/0", REDIS_TLS_CA: ca.replace(/\n/g, "\\n") }).redis.tlsCa).toBe(ca);
    expect(loadConfig({ REDIS_URL: "redis://group/0", ...sentinels, REDIS_SENTINEL_TLS: "true", REDIS_TLS_CA: ca }).redis.tlsCa).toBe(ca);
    expect(loadConfig({ REDIS_URL: "rediss://host/0" }).redis.tlsCa).toBeUndefined();
    expect(() => loadConfig({ REDIS_URL: "redis://host/0", REDIS_TLS_CA: ca })).toThrow(/REDIS_TLS_CA needs a rediss:\/\/ REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: "rediss://group/0", ...sentinels, REDIS_SENTINEL_TLS: "false", REDIS_TLS_CA: "not a certificate" })).toThrow(
      /REDIS_TLS_CA must hold PEM certificates/,
    );
  });

  test("rate limits read as max/window and refuse anything else", () => {
    expect(loadConfig({}).rateLimits.login).toEqual([
      { by: "email", max: 5, windowSeconds: 900, failuresOnly: true },
      { by: "ip", max: 50, windowSeconds: 900 },
    ]);
    expect(loadConfig({ RATE_LIMIT_REGISTER_IP: "3/2h" }).rateLimits.register).toEqual([{ by: "ip", max: 3, windowSeconds: 7200 }]);
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_IP: "lots" })).toThrow(/RATE_LIMIT_LOGIN_IP: expected "max\/window"/);
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_IP: "0/1m" })).toThrow(/RATE_LIMIT_LOGIN_IP/);
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_IP: "5/9000h" })).toThrow(/RATE_LIMIT_LOGIN_IP: .*at most a year/);
  });

  test("METRICS_TOKEN: unset leaves /metrics open; a short one is refused", () => {
    expect(loadConfig({}).metrics.token).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: "scraper-token-0123456789" }).metrics.token).toBe("scraper-token-0123456789");
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN/);
    // A scraper could never send these as they are: /metrics would answer 401 for good.
    for (const token of ["scraper-tøken-0123456789", "scraper-token-0123456789 ", "scraper token 0123456789"]) {
      expect(() => loadConfig({ METRICS_TOKEN: token })).toThrow(/METRICS_TOKEN: .*printable ASCII/);
    }
  });

  test("ARGON2_MAX_QUEUE: 64 waiting calls per concurrent hash unless set, any whole number from 0", () => {
    expect(loadConfig({ ARGON2_CONCURRENCY: "2" }).passwords).toMatchObject({ hashConcurrency: 2, maxQueue: 128 });
    expect(loadConfig({ ARGON2_CONCURRENCY: "2", ARGON2_MAX_QUEUE: "10" }).passwords.maxQueue).toBe(10);
    expect(loadConfig({ ARGON2_MAX_QUEUE: "0" }).passwords.maxQueue).toBe(0);
    expect(() => loadConfig({ ARGON2_MAX_QUEUE: "-1" })).toThrow(/ARGON2_MAX_QUEUE/);
    expect(() => loadConfig({ ARGON2_MAX_QUEUE: "1.5" })).toThrow(/ARGON2_MAX_QUEUE/);
    expect(() => loadConfig({ ARGON2_MAX_QUEUE: "many" })).toThrow(/ARGON2_MAX_QUEUE/);
  });

  test("a captcha provider needs its secret, and knows its siteverify address and widget script", () => {
    expect(() => loadConfig({ CAPTCHA_PROVIDER: "turnstile" })).toThrow(/CAPTCHA_SECRET is required/);
    expect(loadConfig({ CAPTCHA_PROVIDER: "hcaptcha", CAPTCHA_SECRET: "s", ACCOUNT_UI: "false" }).captcha).toEqual({
      provider: "hcaptcha",
      secret: "s",
      verifyUrl: "https://api.hcaptcha.com/siteverify",
      siteKey: undefined,
      scriptUrl: "https://js.hcaptcha.com/1/api.js?render=explicit",
    });
    expect(() => loadConfig({ CAPTCHA_PROVIDER: "friendly" })).toThrow(/CAPTCHA_PROVIDER/);
  });

  test("a captcha provider without a site key turns the pages off by default, and refuses ACCOUNT_UI=true", () => {
    // What the contract lists is enough to start: the pages' forms could not show the widget, so they are off.
    const contractOnly = loadConfig({ CAPTCHA_PROVIDER: "turnstile", CAPTCHA_SECRET: "s" });
    expect(contractOnly.accountUi).toBe(false);
    expect(contractOnly.captcha).toMatchObject({ provider: "turnstile", secret: "s" });
    expect(() => loadConfig({ CAPTCHA_PROVIDER: "turnstile", CAPTCHA_SECRET: "s", ACCOUNT_UI: "true" })).toThrow(/CAPTCHA_SITE_KEY is required when CAPTCHA_PROVIDER is set and ACCOUNT_UI=true/);
    const captcha = loadConfig({ CAPTCHA_PROVIDER: "recaptcha", CAPTCHA_SECRET: "s", CAPTCHA_SITE_KEY: "site", CAPTCHA_SCRIPT_URL: "https://www.recaptcha.net/recaptcha/api.js?render=explicit" }).captcha;
    expect(captcha).toMatchObject({ siteKey: "site", scriptUrl: "https://www.recaptcha.net/recaptcha/api.js?render=explicit" });
  });

  test("a secret may come from the file <NAME>_FILE names, less its final line break", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "config-"));
    try {
      const file = (name: string, content: string) => {
        writeFileSync(path.join(dir, name), content);
        return path.join(dir, name);
      };
      const config = loadConfig({
        NODE_ENV: "production",
        DATABASE_URL_FILE: file("database_url", "postgres://auth:p4ss@postgres:5432/auth\n"),
        JWT_SECRET_FILE: file("jwt_secret", `${SECRET}\r\n`),
        SMTP_URL: "smtp://mail:25",
        FRONTEND_URL: "https://example.com/account",
      });
      expect(config.database.url).toBe("postgres://auth:p4ss@postgres:5432/auth");
      expect(config.jwt.secret).toBe(SECRET);
      // What the value would have to be holds for the file's content too.
      expect(() => loadConfig({ JWT_SECRET_FILE: file("short", "too-short\n") })).toThrow(/JWT_SECRET must be at least 32 bytes/);
      expect(() => loadConfig({ JWT_SECRET: SECRET, JWT_SECRET_FILE: path.join(dir, "jwt_secret") })).toThrow(/^Invalid configuration: set JWT_SECRET or JWT_SECRET_FILE, not both$/);
      // A secret mounted wrong is no secret left unset.
      expect(() => loadConfig({ JWT_SECRET: SECRET, JWT_PRIVATE_KEY_FILE: file("empty", "\n") })).toThrow(/^Invalid configuration: JWT_PRIVATE_KEY_FILE: .*empty is empty$/);
      expect(() => loadConfig({ METRICS_TOKEN_FILE: path.join(dir, "missing") })).toThrow(/^Invalid configuration: METRICS_TOKEN_FILE: cannot read .*missing \(ENOENT\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createApp, type App, type AppOptions } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { createTestDatabase, type TestDatabase } from "./databases";
import { createTestRedis, type TestRedis } from "./redis";

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions: { code: string; field?: string; [key: string]: unknown } }[];
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: App;
  url: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, options?: RequestOptions): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export const GENEROUS_RATE_LIMITS = Object.fromEntries(
  [
    "LOGIN_ACCOUNT",
    "LOGIN_IP",
    "REGISTER_IP",
    "REFRESH_IP",
    "PASSWORD_RESET_EMAIL",
    "PASSWORD_RESET_IP",
    "RESET_PASSWORD_IP",
    "VERIFY_EMAIL_IP",
    "EMAIL_VERIFICATION_USER",
    "ONE_TIME_TOKEN_USER",
    "CHANGE_PASSWORD_USER",
  ].map((name) => [`RATE_LIMIT_${name}`, "10000/1h"]),
);

/**
 * The service's own argon2id cost (its defaults), for the tests about hashing's cost or time.
 * Every other test hashes at the cheapest cost (testEnv): a run registers and signs in with
 * some thousand passwords, whose cost is not what those tests are about.
 */
export const SERVICE_ARGON2 = { ARGON2_MEMORY_KIB: undefined, ARGON2_TIME_COST: undefined };

/** The settings every test app shares; a test passes only what it is about. */
export function testEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    DATA_DIR: "memory://",
    // Functional tests sign in far more often than a person would; tests/security uses the defaults.
    ...GENEROUS_RATE_LIMITS,
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    ...overrides,
  };
}

/**
 * The real app, listening on a free port, over a database and a Redis key prefix of its own
 * (PostgreSQL and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set, else the embedded
 * back ends). `database` and `redis` let several apps share one.
 */
export async function startTestApp(
  overrides: Record<string, string | undefined> = {},
  options: AppOptions & { database?: TestDatabase; redis?: TestRedis } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const redis = options.redis ?? createTestRedis();
  const env = testEnv({
    DATABASE_URL: database.url,
    DATA_DIR: database.dataDir,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    ...overrides,
  });
  const app = await createApp(loadConfig(env), {
    logger: createLogger({ level: env.LOG_LEVEL ?? "silent" }),
    embeddedDatabaseImage: database.image,
    ...options,
  });
  const url = await app.listen();

  return {
    app,
    url,
    async gql(query, variables, requestOptions = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(requestOptions.token ? { authorization: `Bearer ${requestOptions.token}` } : {}),
          ...requestOptions.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: any; errors?: any };
      return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
    },
    async close() {
      await app.close();
      if (!options.database) await database.drop();
      if (!options.redis) await redis.cleanup();
    },
  };
}

export const uniqueEmail = (label = "user") => `${label}-${randomBytes(5).toString("hex")}@example.com`;
export const STRONG_PASSWORD = "plum-kettle-orbit-42";

export const AUTH_FIELDS = `accessToken refreshToken tokenType expiresIn user { id email name role emailVerified active createdAt }`;

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  user: { id: string; email: string; name: string | null; role: string; emailVerified: boolean; active: boolean; createdAt: string };
}

export async function register(t: TestApp, input: { email?: string; password?: string; name?: string } = {}): Promise<AuthPayload> {
  const res = await t.gql<{ register: AuthPayload }>(
    `mutation($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`,
    { input: { email: input.email ?? uniqueEmail(), password: input.password ?? STRONG_PASSWORD, name: input.name } },
  );
  if (!res.data?.register) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  return res.data.register;
}

/**
 * An account whose address is verified, as its link would have made it (set directly: the
 * tests of that link are elsewhere). Its access token still says it is not, until refreshed.
 */
export async function registerVerified(t: TestApp, input: { email?: string; password?: string; name?: string } = {}): Promise<AuthPayload> {
  const auth = await register(t, input);
  if (!(await t.app.services.users.markEmailVerified(auth.user.id))) throw new Error("the account vanished before its address was verified");
  return { ...auth, user: { ...auth.user, emailVerified: true } };
}

export function errorCode(res: GraphQLResponse): string | undefined {
  return res.errors?.[0]?.extensions.code;
}

/**
 * Runs `meanwhile` once, inside the next call of one of the app's password-hasher methods,
 * after its argon2 work: a step of another request that lands while a login (or a password
 * change, a deletion) is hashing.
 */
export function during(app: TestApp, method: "verify" | "hash", meanwhile: () => Promise<unknown>): void {
  const hasher = app.app.services.passwords;
  const original = hasher[method] as (...args: unknown[]) => Promise<unknown>;
  (hasher as Record<typeof method, unknown>)[method] = async (...args: unknown[]) => {
    hasher[method] = original as never;
    const result = await original(...args);
    await meanwhile();
    return result;
  };
}

import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { loadConfig, SECRET_FILE_SETTINGS } from "../../src/config";

// Docker does not run where the tests do, so these read the container files against
// the commands, paths and settings the project really has.

const root = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  for (const line of lines.map((l) => l.trim()).filter((l) => l && !l.startsWith("#"))) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === "FROM") {
      const [image = "", as, name] = args.split(/\s+/).filter((word) => !word.startsWith("--"));
      stages.push({ image, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const argsOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** COPY's words without its flags; the last one is the destination. */
function copyWords(args: string): { from?: string; sources: string[]; destination: string } {
  const words = args.startsWith("[") ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
  const paths = words.filter((w) => !w.startsWith("--"));
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? "" };
}

function workdirOf(stage: Stage): string {
  return stage.instructions.filter((i) => i.keyword === "WORKDIR").reduce((dir, i) => path.posix.resolve(dir, i.args), "/");
}

/**
 * Where COPY puts a path, keyed by the path as the repository names it ("dist", "web/dist"): a
 * --from source is taken relative to that stage's WORKDIR. Relative destinations are under the
 * stage's WORKDIR at that point.
 */
function copyTargets(stage: Stage): Map<string, string> {
  const targets = new Map<string, string>();
  let workdir = "/";
  for (const { keyword, args } of stage.instructions) {
    if (keyword === "WORKDIR") workdir = path.posix.resolve(workdir, args);
    if (keyword !== "COPY") continue;
    const { from, sources, destination } = copyWords(args);
    const origin = stages.find((s) => s.name === from);
    for (const source of sources) {
      const key = origin ? path.posix.relative(workdirOf(origin), path.posix.resolve(workdirOf(origin), source)) : path.posix.normalize(source);
      targets.set(key, path.posix.resolve(workdir, destination));
    }
  }
  return targets;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+|\/+$/g, "")
    .split("**/")
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]"))
    .join("(?:.*/)?");
  return new RegExp(`^${body}$`);
}

const dockerignore = read(".dockerignore")
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));

/** Docker's rule: the last matching pattern wins, and excluding a folder excludes what is in it. */
function isDockerIgnored(file: string): boolean {
  const prefixes = file.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const line of dockerignore) {
    const negated = line.startsWith("!");
    const pattern = globToRegExp(negated ? line.slice(1) : line);
    if (prefixes.some((prefix) => pattern.test(prefix))) ignored = !negated;
  }
  return ignored;
}

function existsInRepo(source: string): boolean {
  if (!/[*?]/.test(source)) return existsSync(path.join(root, source));
  const pattern = globToRegExp(path.posix.basename(source));
  return readdirSync(path.join(root, path.posix.dirname(source))).some((name) => pattern.test(name));
}

const packageJson = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
const buildOptions = (JSON.parse(read("tsconfig.build.json")) as { compilerOptions: { rootDir: string; outDir: string } }).compilerOptions;

/** The file in src/ that `npm run build` compiles to a dist/ path. */
function sourceOf(distFile: string): string {
  const relative = path.posix.relative(buildOptions.outDir, path.posix.normalize(distFile));
  return path.posix.join(buildOptions.rootDir, relative.replace(/\.js$/, ".ts"));
}

type Environment = Record<string, string | number | boolean | null> | string[];

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Environment;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[] };
  ports?: string[];
  volumes?: string[];
  restart?: unknown;
  stop_grace_period?: string;
}

// YAML 1.1, as Compose's own reader treats some plain scalars: an unquoted `no` is false
// there and an unquoted `4000:4000` a number, so this catches both.
const compose = parse(read("docker-compose.yml"), { version: "1.1" }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const serviceOf = (name: string): ComposeService => {
  const service = services[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
};

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env) ? env.map((item) => item.split(/=(.*)/s).slice(0, 2)) : Object.entries(env);
  return Object.fromEntries(entries.map(([key, value]) => [key, value === null || value === undefined ? "" : String(value)]));
}

/**
 * Compose's interpolation as `docker compose up` does it with no .env file and only `shell`
 * exported; like compose, it refuses a `$` that starts neither `$$`, `${` nor a name ("$(").
 */
function interpolate(value: string, shell: Record<string, string> = {}): string {
  return value.replace(/\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)|\$/g, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === "$$") return "$";
    if (match === "$") throw new Error(`Invalid template: ${value}`);
    const name = (braced ?? bare) as string;
    const current = shell[name];
    const isMissing = op?.startsWith(":") ? !current : current === undefined;
    if (!isMissing) return current as string;
    if (op?.endsWith("?")) throw new Error(`${name} must be set: ${arg}`);
    return op?.endsWith("-") ? (arg ?? "") : "";
  });
}

const resolvedEnvironment = (service: string, shell: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(environmentOf(serviceOf(service))).map(([key, value]) => [key, interpolate(value, shell)]));

const commandText = (command: string | string[] | undefined) => (Array.isArray(command) ? command.join(" ") : (command ?? ""));

const stages = parseDockerfile(read("Dockerfile"));
const runtime = stages.at(-1) as Stage;

describe("Dockerfile", () => {
  test("builds in one stage and runs from another, on Debian slim Node 22 (the LTS line that still gets security releases)", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const stageNames = stages.map((stage) => stage.name);
    for (const stage of stages) {
      if (!stageNames.includes(stage.image)) expect(stage.image).toBe("node:22-bookworm-slim");
    }
    for (const stage of stages) {
      for (const args of argsOf(stage, "COPY")) {
        const { from } = copyWords(args);
        if (from !== undefined) expect(stageNames.slice(0, stages.indexOf(stage))).toContain(from);
      }
    }
  });

  test("installs everything to build, and runs with the production dependencies only", () => {
    const build = stages.slice(0, -1).flatMap((stage) => argsOf(stage, "RUN"));
    expect(build.some((run) => /\bnpm ci\b(?!.*--omit=dev)/.test(run))).toBe(true);
    // Dev dependencies go once the build is done, and the runtime takes what is left.
    expect(build.some((run) => /\bnpm run build\b.*\bnpm prune --omit=dev\b/.test(run))).toBe(true);
    const fromBuild = argsOf(runtime, "COPY").map(copyWords).filter((copy) => copy.from !== undefined);
    expect(fromBuild.flatMap((copy) => copy.sources)).toContain("/app/node_modules");
    // No npm in the runtime stage: it would run under the service's NODE_OPTIONS, whose
    // 128 MB heap npm ci exceeds.
    expect(argsOf(runtime, "RUN").some((run) => /\bnpm\b/.test(run))).toBe(false);
  });

  test("runs node dist/server.js as a non-root user in production mode on port 4000", () => {
    expect(JSON.parse(argsOf(runtime, "CMD").at(-1) ?? "null")).toEqual(["node", "dist/server.js"]);
    const user = argsOf(runtime, "USER").at(-1);
    expect(user).toBeDefined();
    expect(user?.split(":")[0]).not.toMatch(/^(root|0)$/);
    expect(argsOf(runtime, "ENV").join(" ")).toMatch(/\bNODE_ENV[= ]production\b/);
    expect(argsOf(runtime, "EXPOSE").join(" ").split(/\s+/)).toContain("4000");
  });

  test("probes /healthz with node, since the slim image has no curl", () => {
    const healthcheck = argsOf(runtime, "HEALTHCHECK").at(-1) ?? "";
    expect(healthcheck).toMatch(/\bCMD\b.*\bnode\b.*\/healthz/);
    expect(healthcheck).not.toMatch(/\b(curl|wget)\b/);
  });

  test("puts drizzle/ where src/db/migrate.ts looks for it from dist/db", () => {
    const [, fromDbFolder] = /MIGRATIONS_FOLDER = path\.resolve\(__dirname, "([^"]+)"\)/.exec(read("src/db/migrate.ts")) ?? [];
    expect(fromDbFolder).toBeDefined();
    const targets = copyTargets(runtime);
    const dist = targets.get(buildOptions.outDir);
    const drizzle = targets.get("drizzle");
    expect(dist).toBeDefined();
    expect(path.posix.resolve(dist as string, "db", fromDbFolder as string)).toBe(drizzle);
  });

  test("builds the account pages from web/ and ships them where src/http/account-ui.ts looks from dist/http", () => {
    const [, fromHttpFolder] = /ACCOUNT_UI_ROOT = path\.resolve\(__dirname, "([^"]+)"\)/.exec(read("src/http/account-ui.ts")) ?? [];
    expect(fromHttpFolder).toBeDefined();
    const pages = path.posix.join("src/http", fromHttpFolder as string);
    expect(pages).toBe("web/dist");
    const buildStage = stages.find((stage) => argsOf(stage, "RUN").some((run) => /\bnpm run build\b/.test(run))) as Stage;
    expect(argsOf(buildStage, "COPY").flatMap((args) => copyWords(args).sources)).toContain("web");
    expect(packageJson.scripts.build).toMatch(/\bbuild:web\b/);
    expect(packageJson.scripts["build:web"]).toMatch(/\bvite build web\b/);
    const targets = copyTargets(runtime);
    const dist = targets.get(buildOptions.outDir);
    expect(dist).toBeDefined();
    expect(path.posix.resolve(dist as string, "http", fromHttpFolder as string)).toBe(targets.get(pages));
  });

  test("copies only files that are in the repository and not excluded from the build context", () => {
    const sources = stages.flatMap((stage) => argsOf(stage, "COPY").map(copyWords)).filter((copy) => copy.from === undefined);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources.flatMap((copy) => copy.sources)) {
      expect({ source, exists: existsInRepo(source) }).toEqual({ source, exists: true });
      expect({ source, ignored: isDockerIgnored(source) }).toEqual({ source, ignored: false });
    }
  });

  test("copies what npm ci and the build read into the build stage", () => {
    const buildStage = stages.find((stage) => argsOf(stage, "RUN").some((run) => /\bnpm run build\b/.test(run))) as Stage;
    const copied = argsOf(buildStage, "COPY").flatMap((args) => copyWords(args).sources);
    const build = JSON.parse(read("tsconfig.build.json")) as { extends?: string; include: string[] };
    const needed = ["package.json", "package-lock.json", ...(build.extends ? [path.posix.normalize(build.extends)] : []), "tsconfig.build.json", ...build.include];
    for (const file of needed) expect(copied).toContain(file);
  });
});

describe(".dockerignore", () => {
  test("keeps host installs, build output, local data, secrets and git out of the context", () => {
    for (const file of ["node_modules", "dist", ".data", ".git", ".env", ".env.production", "coverage"]) {
      expect({ file, ignored: isDockerIgnored(file) }).toEqual({ file, ignored: true });
    }
    for (const file of ["src/server.ts", "drizzle/0000_init.sql", "package-lock.json"]) {
      expect({ file, ignored: isDockerIgnored(file) }).toEqual({ file, ignored: false });
    }
  });
});

describe("docker-compose.yml", () => {
  test("has the service, its migration job, PostgreSQL 16, Redis 7 and a mail catcher", () => {
    expect(Object.keys(services).sort()).toEqual(["auth", "init-secrets", "mailpit", "migrate", "postgres", "redis"]);
    expect(serviceOf("postgres").image).toMatch(/^postgres:16(\b|$)/);
    expect(serviceOf("redis").image).toMatch(/^redis:7(\b|$)/);
    expect(serviceOf("mailpit").image).toMatch(/^axllent\/mailpit(:|$)/);
  });

  test("builds the service and the job from this repository's Dockerfile", () => {
    for (const name of ["auth", "migrate"]) {
      const build = serviceOf(name).build;
      const { context = ".", dockerfile = "Dockerfile" } = typeof build === "string" ? { context: build } : (build ?? {});
      expect(build).toBeDefined();
      expect(path.resolve(root, context, dockerfile)).toBe(path.join(root, "Dockerfile"));
    }
  });

  test("health-checks every server the service waits for", () => {
    expect(commandText(serviceOf("postgres").healthcheck?.test)).toMatch(/pg_isready/);
    expect(commandText(serviceOf("redis").healthcheck?.test)).toMatch(/redis-cli ping/);
    expect(commandText(serviceOf("auth").healthcheck?.test)).toMatch(/\bnode\b.*:4000\/(healthz|readyz)/);
  });

  test("starts the service only after the databases are healthy and the migrations succeeded", () => {
    const migrate = serviceOf("migrate");
    expect(commandText(migrate.command)).toBe("node dist/cli/migrate.js");
    expect(migrate.restart).toBe("no");
    expect(migrate.depends_on?.postgres?.condition).toBe("service_healthy");
    expect(serviceOf("auth").depends_on).toMatchObject({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
      migrate: { condition: "service_completed_successfully" },
    });
    for (const service of Object.values(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(Object.keys(services)).toContain(dependency);
    }
    expect(serviceOf("auth").ports).toContain("4000:4000");
  });

  test("keeps PostgreSQL and Redis data in declared named volumes", () => {
    const declared = Object.keys(compose.volumes ?? {});
    const named = Object.values(services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(":")[0] as string)
      .filter((source) => !/^[./~]/.test(source));
    for (const volume of named) expect(declared).toContain(volume);
    expect(serviceOf("postgres").volumes?.some((v) => v.endsWith(":/var/lib/postgresql/data"))).toBe(true);
    expect(serviceOf("redis").volumes?.some((v) => v.endsWith(":/data"))).toBe(true);
  });

  test("names only variables that src/config.ts reads", () => {
    const [, schema = ""] = /const Env = z\.object\(\{([\s\S]*?)\n\}\);/.exec(read("src/config.ts")) ?? [];
    const known = [...schema.matchAll(/^\s*([A-Z][A-Z0-9_]*):/gm)].map(([, name]) => name);
    expect(known).toContain("DATABASE_URL");
    const fromFiles = SECRET_FILE_SETTINGS.map((name) => `${name}_FILE`);
    for (const name of ["auth", "migrate"]) {
      for (const variable of Object.keys(environmentOf(serviceOf(name)))) expect([...known, ...fromFiles]).toContain(variable);
    }
  });

  /** The volume the init-secrets job writes, where it is mounted, and its files as a directory of this machine. */
  const SECRETS = "/run/auth-secrets";
  const onThisMachine = (env: Record<string, string>, dir: string) => Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll(SECRETS, dir)]));
  const scratch: string[] = [];
  afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const volume = () => {
    scratch.push(mkdtempSync(path.join(tmpdir(), "compose-secrets-")));
    return scratch.at(-1) as string;
  };

  /** Runs the init-secrets job's script as its container does (sh -c), on `dir` for its volume, `shell` exported to compose. */
  function initSecrets(dir: string, shell: Record<string, string> = {}): Record<string, string> {
    const job = serviceOf("init-secrets");
    expect(job.entrypoint).toEqual(["sh", "-c"]);
    expect(job.volumes).toContain(`secrets:${SECRETS}`);
    const [script = ""] = job.command as string[];
    execFileSync("sh", ["-c", interpolate(script, shell).replaceAll(SECRETS, dir)], { env: { PATH: process.env.PATH, ...resolvedEnvironment("init-secrets", shell) } });
    return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), "utf8")]));
  }

  test("publishes no secret: the first start makes random ones, later starts keep them", () => {
    // The service, its job and PostgreSQL read them from the volume; none is written in the file.
    for (const name of ["auth", "migrate", "postgres"]) {
      const env = resolvedEnvironment(name);
      for (const secret of ["DATABASE_URL", "JWT_SECRET", "POSTGRES_PASSWORD"]) expect(env[secret]).toBeUndefined();
      expect(serviceOf(name).volumes).toContain(`secrets:${SECRETS}:ro`);
      expect(serviceOf(name).depends_on?.["init-secrets"]?.condition).toBe("service_completed_successfully");
    }
    const first = volume();
    const made = initSecrets(first);
    expect(Buffer.from(made.jwt_secret as string, "base64")).toHaveLength(48);
    expect(made.postgres_password).toMatch(/^[0-9a-f]{48}$/);
    expect(initSecrets(volume())).not.toMatchObject({ jwt_secret: made.jwt_secret });
    expect(initSecrets(first)).toEqual(made);
    // Read by the containers' own users: postgres in its image, node in ours.
    for (const file of readdirSync(first)) expect(statSync(path.join(first, file)).mode & 0o044).toBe(0o044);
  });

  test("passes the production checks, wired to the compose services and the password PostgreSQL is made with", () => {
    const dir = volume();
    initSecrets(dir);
    const postgres = onThisMachine(resolvedEnvironment("postgres"), dir);
    for (const name of ["auth", "migrate"]) {
      const config = loadConfig(onThisMachine(resolvedEnvironment(name), dir));
      expect(config.isProduction).toBe(true);
      expect(Buffer.byteLength(config.jwt.secret as string)).toBeGreaterThanOrEqual(32);
      const database = new URL(config.database.url as string);
      expect([database.hostname, database.username, decodeURIComponent(database.password), database.pathname]).toEqual([
        "postgres",
        postgres.POSTGRES_USER,
        readFileSync(postgres.POSTGRES_PASSWORD_FILE as string, "utf8"),
        `/${postgres.POSTGRES_DB}`,
      ]);
      expect(new URL(config.redis.url as string).hostname).toBe("redis");
      expect(new URL(config.mail.smtpUrl as string).host).toBe("mailpit:1025");
      expect(config.http.port).toBe(4000);
    }
  });

  test("gives the service time to shut down before Docker kills it: SHUTDOWN_TIMEOUT and then some to close its connections", () => {
    const dir = volume();
    initSecrets(dir);
    const config = loadConfig(onThisMachine(resolvedEnvironment("auth"), dir));
    const grace = /^(\d+)s$/.exec(serviceOf("auth").stop_grace_period ?? "");
    expect(grace).not.toBeNull();
    expect(Number(grace![1]) * 1000).toBeGreaterThanOrEqual(config.shutdown.timeoutMs + 10_000);
  });

  test("takes your secrets from .env or the shell instead", () => {
    const shell = { JWT_SECRET: randomBytes(48).toString("base64"), POSTGRES_PASSWORD: randomBytes(24).toString("hex") };
    const dir = volume();
    expect(initSecrets(dir, shell)).toMatchObject({ jwt_secret: shell.JWT_SECRET, postgres_password: shell.POSTGRES_PASSWORD });
    const config = loadConfig(onThisMachine(resolvedEnvironment("auth", shell), dir));
    expect(config.jwt.secret).toBe(shell.JWT_SECRET);
    expect(decodeURIComponent(new URL(config.database.url as string).password)).toBe(shell.POSTGRES_PASSWORD);
  });
});

describe("commands in the container files", () => {
  const commands = [
    ...stages.flatMap((stage) => stage.instructions.filter((i) => ["RUN", "CMD", "HEALTHCHECK"].includes(i.keyword)).map((i) => i.args)),
    ...Object.values(services).flatMap((service) => [commandText(service.command), commandText(service.healthcheck?.test)]),
  ].map((command) => (command.startsWith("[") ? (JSON.parse(command) as string[]).join(" ") : command));

  test("run npm scripts that package.json has", () => {
    const scripts = [...commands.join("\n").matchAll(/\bnpm run ([\w:-]+)/g)].map(([, script]) => script);
    expect(scripts).toContain("build");
    for (const script of scripts) expect(Object.keys(packageJson.scripts)).toContain(script);
  });

  test("run compiled files that have a source in src/", () => {
    const files = [...commands.join("\n").matchAll(/\bnode (dist\/[\w./-]+\.js)\b/g)].map(([, file]) => file as string);
    expect(files).toEqual(expect.arrayContaining(["dist/server.js", "dist/cli/migrate.js"]));
    for (const file of files) {
      const source = sourceOf(file);
      expect({ file, source, exists: existsSync(path.join(root, source)) }).toEqual({ file, source, exists: true });
    }
  });
});

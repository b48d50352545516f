// npm run bench [-- options]: builds the service, starts it on its own PostgreSQL database and
// Redis key prefix (or, with --embedded, on PGlite and the in-process store), measures every
// workload and the ceilings it is compared with, and writes bench/results/. See bench/README.md.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createDatabase, openRedis, startSmtpSink } from "./lib/backends.mjs";
import { freePort, imageEnvironment, memoryOf, resetPeak, runLoad, runScript, sampleMemory, startScript, startService } from "./lib/processes.mjs";
import { ceilingOf, combineRuns, evaluateTargets, printReport, writeReport } from "./lib/report.mjs";
import { logIn, registerAccounts, registerBetterAuthAccounts } from "./lib/setup.mjs";
import { writeProfileSummaries } from "./profile-summary.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ALL = ["typename", "me", "oneTimeToken", "refresh", "entities", "login", "register"];
/** The workloads whose target is a ratio to a ceiling, measured again in paired rounds. */
const PAIRED = ["me", "oneTimeToken", "login"];
const LOGIN_QUEUE_DRAIN_MS = 2_000;
/** What `--compare` can start beside the service: its directory, how its accounts are made, and the workloads it runs. */
const ALTERNATIVES = {
  "better-auth": { dir: "bench/alternatives/better-auth", registerAccounts: registerBetterAuthAccounts, workloads: ["betterAuthSignIn", "betterAuthSession"] },
};

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    embedded: { type: "boolean", default: false },
    only: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    "argon2-warmup": { type: "string" },
    connections: { type: "string" },
    "entities-connections": { type: "string" },
    accounts: { type: "string" },
    "argon2-concurrency": { type: "string" },
    rounds: { type: "string" },
    rate: { type: "string" },
    "node-env": { type: "string" },
    compare: { type: "string" },
    "log-level": { type: "string", default: "info" },
    profile: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    "keep-log": { type: "boolean", default: false },
    out: { type: "string" },
    "database-url": { type: "string", default: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
    "redis-url": { type: "string", default: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/0" },
    help: { type: "boolean", default: false },
  },
});

if (args.help) {
  console.log(`npm run bench -- [--smoke] [--embedded] [--only me,login,…] [--duration S] [--warmup S]
  [--argon2-warmup S] [--connections N] [--entities-connections N] [--accounts N] [--argon2-concurrency N] [--rounds N] [--log-level L]
  [--rate R] [--node-env E]
  [--profile] [--no-build] [--keep-log] [--out DIR] [--database-url URL] [--redis-url URL] [--compare better-auth]
workloads: ${ALL.join(", ")}`);
  process.exit(0);
}

const smoke = args.smoke;
const settings = {
  smoke,
  backEnds: args.embedded ? "embedded (PGlite, in-process store)" : "PostgreSQL + Redis",
  workloads: args.only ? args.only.split(",").map((w) => w.trim()) : ALL,
  seconds: Number(args.duration ?? (smoke ? 2 : 15)),
  warmupSeconds: Number(args.warmup ?? (smoke ? 1 : 5)),
  // The workloads bound by argon2 (login, register, the alternative's sign-in) run some 40 times
  // a second: 5 s of that leaves V8 still compiling their paths in the measured run (its helper
  // threads spent ~2 ms per login on TurboFan jobs), which a service up for hours does not pay.
  argon2WarmupSeconds: Number(args["argon2-warmup"] ?? (smoke ? 1 : 20)),
  connections: Number(args.connections ?? (smoke ? 10 : 50)),
  // A latency target: at 50 connections _entities would be measured in its queue, not its work.
  entitiesConnections: Number(args["entities-connections"] ?? 10),
  accounts: Number(args.accounts ?? (smoke ? 60 : 200)),
  // Paired rounds behind each ratio target: ceiling, then workload, this many times (0: none).
  rounds: Number(args.rounds ?? (smoke ? 0 : 5)),
  roundSeconds: smoke ? 1 : 4,
  // The service's ARGON2_CONCURRENCY (by default one hash per core), and the ceiling's.
  argon2Concurrency: Number(args["argon2-concurrency"] ?? process.env.ARGON2_CONCURRENCY ?? availableParallelism()),
  logLevel: args["log-level"],
  // Production needs a DATABASE_URL, so the embedded back ends run as in development.
  // Development also takes argon2 costs production refuses (a cheap hash, to see the rest of a login).
  nodeEnv: args["node-env"] ?? (args.embedded ? "development" : "production"),
  // Requests a second for each workload (its warm-up and measured run), all connections together
  // (autocannon's overallRate), instead of as fast as the service answers: CPU per operation at a
  // given rate. Its throughput ratio then says nothing; the paired rounds behind the targets stay unpaced.
  rate: args.rate === undefined ? null : Number(args.rate),
  profile: args.profile,
};
if (settings.rate !== null && !(settings.rate > 0)) throw new Error(`--rate: "${args.rate}" is no rate; requests a second, above 0`);
for (const name of settings.workloads) if (!ALL.includes(name)) throw new Error(`unknown workload "${name}"; one of ${ALL.join(", ")}`);
const alternative = args.compare ? ALTERNATIVES[args.compare] : null;
if (args.compare && !alternative) throw new Error(`--compare: unknown alternative "${args.compare}"; one of ${Object.keys(ALTERNATIVES).join(", ")}`);
if (alternative && args.embedded) throw new Error("--compare needs PostgreSQL: it cannot run with --embedded");
// Each refresh chain (warm-up and measured) needs a session of its own. _entities asks for 50
// users, each connection its own: as many accounts as that takes, so that concurrent calls ask
// for different users as a gateway's would (the same 50 would share their rows in one query).
// A smoke run, which measures nothing, lets them overlap.
const entitiesAccounts = settings.workloads.includes("entities") && !smoke ? 50 * settings.entitiesConnections : 50;
settings.accounts = Math.max(settings.accounts, entitiesAccounts, 2 * settings.connections);

// Only a whole run replaces bench/results/; a smoke run or a few workloads go beside it.
const outDir = resolve(args.out ?? join(ROOT, "bench", "results", smoke ? "smoke" : args.only ? "partial" : ""));
mkdirSync(outDir, { recursive: true });
const id = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const say = (line) => console.log(`[bench] ${line}`);

const cleanups = [];
async function cleanUp() {
  while (cleanups.length) await cleanups.pop()().catch((error) => console.error(`[bench] clean-up failed: ${error.message}`));
}
// Interrupted (Ctrl-C, or a SIGTERM from a CI runner): nothing more is measured or written,
// and the database and Redis keys still go.
let interrupted = false;
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
  process.once(signal, () => {
    interrupted = true;
    say(`${signal}: cleaning up`);
    void cleanUp().then(() => process.exit(code));
  });
}

function machine() {
  const cores = cpus();
  return {
    cpu: cores[0]?.model ?? "unknown",
    cores: cores.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
    load: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main() {
  const started = new Date();
  const results = { id, startedAt: started.toISOString(), settings, machine: machine(), backEndVersions: {}, ceilings: {}, workloads: {}, rounds: {}, service: {}, alternatives: {}, failures: [] };
  say(`run ${id}: ${settings.backEnds}, ${settings.connections} connections, ${settings.warmupSeconds} s warm-up (${settings.argon2WarmupSeconds} s for argon2's) + ${settings.seconds} s per workload`);
  say(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memoryGb} GB, Node ${results.machine.node}, load ${results.machine.load.join(" ")}`);

  if (!args["no-build"]) {
    say("npm run build:server");
    execFileSync("npm", ["run", "build:server", "--silent"], { cwd: ROOT, stdio: "inherit" });
  }

  // Back ends of its own, removed at the end whatever happens.
  const keyPrefix = `bench:${id}:`;
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${id}-`));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const backEndEnv = { DATA_DIR: dataDir };
  if (!args.embedded) {
    const database = await createDatabase(args["database-url"], id);
    cleanups.push(() => database.drop().then(() => say(`dropped database bench_${id}`)));
    const redis = await openRedis(args["redis-url"], keyPrefix);
    cleanups.push(() => redis.clean().then((n) => say(`deleted ${n} Redis keys under ${keyPrefix}`)));
    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.close());
    results.backEndVersions = { database: database.version, redis: redis.version };
    // Production wants the base of the emails' links too; the sink drops the emails.
    Object.assign(backEndEnv, { DATABASE_URL: database.url, REDIS_URL: args["redis-url"], REDIS_KEY_PREFIX: keyPrefix, SMTP_URL: smtp.url, FRONTEND_URL: "https://app.example.com" });
  }

  const baseEnv = { ...process.env, NODE_ENV: settings.nodeEnv, ARGON2_CONCURRENCY: String(settings.argon2Concurrency) };
  for (const name of ["DATABASE_URL", "REDIS_URL", "SMTP_URL", "FRONTEND_URL", "NODE_OPTIONS"]) delete baseEnv[name];
  // The service runs with the image's memory settings (Dockerfile ENV); the ceilings without.
  const imageEnv = imageEnvironment(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  results.settings.imageEnv = imageEnv;
  const workloadsWanted = new Set(settings.workloads);
  const argon2Parameters = [process.env.ARGON2_MEMORY_KIB ?? "19456", process.env.ARGON2_TIME_COST ?? "2", process.env.ARGON2_PARALLELISM ?? "1"];
  // --profile: a V8 CPU profile of the service and of the trivial GraphQL server, written when they exit.
  const profileDir = join(outDir, `profile-${id}`);
  const nodeArgs = (name) => (settings.profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
  const warmupOf = (workload) => (ceilingOf(workload) === "argon2" ? settings.argon2WarmupSeconds : settings.warmupSeconds);
  const load = async (workload, url, data, serverPid, connections = settings.connections, { warmupSeconds = settings.warmupSeconds, seconds = settings.seconds, rate = null } = {}) => {
    const phase = { url, workload, connections, data, rate };
    return runLoad(
      {
        warmup: warmupSeconds > 0 ? { ...phase, seconds: warmupSeconds, data: data.warmup ?? data } : null,
        measured: { ...phase, seconds, data: data.measured ?? data },
      },
      serverPid,
    );
  };

  // Ceiling of any GraphQL request: the same HTTP stack with a trivial schema, alone on the
  // machine. Measured before and after the GraphQL workloads: ratios use the mean, and the two
  // runs' spread says how much the machine moved meanwhile.
  const graphqlRuns = [];
  const measureGraphqlCeiling = async () => {
    if (interrupted) return;
    say("ceiling: Fastify + Apollo Server answering { __typename } with a trivial schema");
    const bare = await startScript(join(ROOT, "bench/ceilings/graphql-server.mjs"), baseEnv, nodeArgs(`ceiling-graphql-${graphqlRuns.length + 1}`));
    cleanups.push(() => bare.stop());
    try {
      const stopMemory = sampleMemory(bare.pid);
      const { measured } = await load("typename", bare.url.replace(/\/$/, ""), {}, bare.pid);
      graphqlRuns.push({ ...measured, memory: stopMemory() });
      checkErrors("ceiling { __typename }", measured, results);
      results.ceilings.graphql = combineRuns(graphqlRuns, (run) => run.requestsPerSecond);
    } finally {
      cleanups.pop();
      await bare.stop();
    }
  };
  /**
   * The ratio targets as medians: `rounds` short pairs, each the ceiling then the workload
   * back to back, so a pair shares whatever the machine was doing; the median of the pairs'
   * ratios is what the target is held to. The trivial server stays up (idle) between its runs.
   */
  const pairedRounds = async (name, data, servicePid, serviceUrl) => {
    const short = { warmupSeconds: 0, seconds: settings.roundSeconds };
    const isArgon2 = name === "login";
    const bare = isArgon2 ? null : await startScript(join(ROOT, "bench/ceilings/graphql-server.mjs"), baseEnv);
    if (bare) cleanups.push(() => bare.stop());
    const bareUrl = bare?.url.replace(/\/$/, "");
    say(`workload: ${name}, ${settings.rounds} paired rounds of ${settings.roundSeconds} s against its ceiling`);
    try {
      if (bare) await load("typename", bareUrl, {}, bare.pid, settings.connections, { warmupSeconds: 1, seconds: 1 });
      const rounds = [];
      for (let i = 0; i < settings.rounds && !interrupted; i++) {
        const ceiling = isArgon2
          ? await runScript(join(ROOT, "bench/ceilings/argon2.mjs"), [String(settings.roundSeconds), ...argon2Parameters], baseEnv)
          : (await load("typename", bareUrl, {}, bare.pid, settings.connections, short)).measured;
        const { measured } = await load(name, serviceUrl, data, servicePid, settings.connections, short);
        checkErrors(`${name} (round ${i + 1})`, measured, results);
        // The hashes queued by the connections the round just closed are still being worked
        // off; the next round's ceiling should not share the cores with them.
        if (isArgon2) await sleep(LOGIN_QUEUE_DRAIN_MS);
        rounds.push({
          ceiling: { rate: ceiling.perSecond ?? ceiling.requestsPerSecond, cpuMsPerRequest: ceiling.cpuMsPerRequest, machine: ceiling.machine },
          workload: { requestsPerSecond: measured.requestsPerSecond, cpuMsPerRequest: measured.cpuMsPerRequest, p99: measured.latency.p99, machine: measured.machine },
        });
      }
      results.rounds[name] = rounds;
    } finally {
      if (bare) {
        cleanups.pop();
        await bare.stop();
      }
    }
  };
  const argon2Runs = [];
  const measureArgon2Ceiling = async () => {
    if (interrupted) return;
    say(`ceiling: argon2id verifications at ${settings.argon2Concurrency} in flight (ARGON2_CONCURRENCY)`);
    argon2Runs.push(await runScript(join(ROOT, "bench/ceilings/argon2.mjs"), [String(settings.seconds), ...argon2Parameters], baseEnv));
    results.ceilings.argon2 = combineRuns(argon2Runs, (run) => run.perSecond);
  };
  const graphqlWorkloads = ["typename", "me", "oneTimeToken", "refresh", "entities"].filter((w) => workloadsWanted.has(w));
  if (graphqlWorkloads.length) await measureGraphqlCeiling();

  const port = await freePort();
  const serviceEnv = {
    ...baseEnv,
    ...imageEnv,
    ...backEndEnv,
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: settings.logLevel,
    ACCOUNT_UI: "false",
    JWT_SECRET: randomBytes(32).toString("base64url"),
    // Node options for the service only, to try a flag (--max-semi-space-size=…) instead of the image's.
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS } : {}),
    // Every limit raised far above what the bench sends: it measures the work, not the refusals.
    // One-second windows keep each counter near what real traffic under the default limits
    // reaches (tens to hundreds), rather than growing all run long.
    ...Object.fromEntries(
      ["LOGIN_ACCOUNT", "LOGIN_IP", "REGISTER_IP", "REFRESH_IP", "PASSWORD_RESET_EMAIL", "PASSWORD_RESET_IP", "RESET_PASSWORD_IP", "VERIFY_EMAIL_IP", "EMAIL_VERIFICATION_USER", "ONE_TIME_TOKEN_USER", "CHANGE_PASSWORD_USER"].map(
        (rule) => [`RATE_LIMIT_${rule}`, process.env.BENCH_RATE_LIMIT ?? "1000000/1s"],
      ),
    ),
  };
  // The service's log (LOG_LEVEL=info: a line per request) is kept only when something failed.
  const logFile = join(tmpdir(), `bench-${id}-service.log`);
  cleanups.push(async () => {
    if (results.failures.length || args["keep-log"]) say(`service log kept: ${logFile}`);
    else rmSync(logFile, { force: true });
  });
  say(`starting node dist/server.js on port ${port} (log: ${logFile})`);
  const service = await startService({ cwd: ROOT, env: serviceEnv, port, logFile, nodeArgs: nodeArgs("service") });
  cleanups.push(() => service.stop());
  let lifetimePeakMb = 0;
  const notePeak = () => (lifetimePeakMb = Math.max(lifetimePeakMb, memoryOf(service.pid)?.peakMb ?? 0));

  try {
    say(`registering ${settings.accounts} accounts`);
    const accounts = await registerAccounts(service.url, `${id}`, settings.accounts);
    const c = settings.connections;
    const chains = accounts.slice(-2 * c);

    /** Each workload: what its connections need, just before it runs. */
    const plan = {
      typename: async () => ({}),
      me: async () => ({ accounts: await logIn(service.url, accounts.slice(0, c)) }),
      oneTimeToken: async () => ({ accounts: await logIn(service.url, accounts.slice(0, c)) }),
      // Separate chains for warm-up and measurement: a request cut at the end of the warm-up
      // would leave its chain on a token the client never saw.
      refresh: async () => ({ warmup: { refreshTokens: chains.slice(0, c).map((a) => a.refreshToken) }, measured: { refreshTokens: chains.slice(c).map((a) => a.refreshToken) } }),
      entities: async () => ({ userIds: accounts.map((a) => a.id) }),
      login: async () => ({ accounts }),
      register: async () => ({ warmup: { emailPrefix: `${id}-warmup` }, measured: { emailPrefix: `${id}-measured` } }),
    };

    const argon2Workloads = ["login", "register"].filter((w) => workloadsWanted.has(w));
    for (const name of ALL.filter((w) => workloadsWanted.has(w))) {
      if (interrupted) break;
      if (name === argon2Workloads[0]) await measureArgon2Ceiling();
      if (service.exitStatus) {
        results.failures.push({ workload: name, error: `not run: the service exited (${JSON.stringify(service.exitStatus)}); see ${logFile}` });
        say(`workload ${name} not run: the service has exited`);
        continue;
      }
      try {
        const data = await plan[name]();
        notePeak();
        const isPeakReset = resetPeak(service.pid);
        const stopMemory = sampleMemory(service.pid);
        say(`workload: ${name}`);
        const connections = name === "entities" ? settings.entitiesConnections : c;
        const { warmup, measured } = await load(name, service.url, data, service.pid, connections, { warmupSeconds: warmupOf(name), rate: settings.rate });
        const memory = stopMemory();
        results.workloads[name] = { ...measured, warmupErrors: warmup?.errors, warmupErrorSamples: warmup?.errorSamples, memory: { ...memory, isPeakPerWorkload: isPeakReset } };
        checkErrors(name, measured, results);
        if (warmup) checkErrors(`${name} (warm-up)`, warmup, results);
        if (service.exitStatus) results.failures.push({ workload: name, error: `the service exited during this workload (${JSON.stringify(service.exitStatus)})` });
        else if (PAIRED.includes(name) && settings.rounds > 0) await pairedRounds(name, data, service.pid, service.url);
      } catch (error) {
        results.failures.push({ workload: name, error: String(error?.message ?? error) });
        say(`workload ${name} FAILED to run: ${error?.message ?? error}`);
      }
      // A smoke run, which measures nothing, takes each ceiling once.
      if (name === graphqlWorkloads.at(-1) && !smoke) await measureGraphqlCeiling();
      if (name === argon2Workloads.at(-1) && !smoke) await measureArgon2Ceiling();
    }
    notePeak();
    results.service = { peakRssMb: lifetimePeakMb, rssAtEndMb: memoryOf(service.pid)?.rssMb ?? null };
  } finally {
    cleanups.pop();
    const status = await service.stop();
    if (status.code !== 0 && status.signal !== "SIGTERM") results.failures.push({ workload: "service", error: `exited with ${JSON.stringify(status)}` });
  }

  /**
   * `--compare better-auth`: the alternative, installed on demand from its own lock file, on a
   * database of its own, through the same load generator, CPU and memory readings as the
   * service. Its rows go in the workloads table, held against the same ceilings; no target
   * applies to them, but their errors still fail the run.
   */
  async function compareWith(name, { dir, registerAccounts: registerAlternativeAccounts, workloads }) {
    const home = join(ROOT, dir);
    if (!existsSync(join(home, "node_modules"))) {
      say(`installing ${name} (npm ci in ${dir})`);
      execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--silent"], { cwd: home, stdio: "inherit" });
    }
    const database = await createDatabase(args["database-url"], `${id}_${name.replace(/\W/g, "_")}`);
    cleanups.push(() => database.drop().then(() => say(`dropped the database of ${name}`)));
    const env = { ...baseEnv, NODE_ENV: "production", DATABASE_URL: database.url, UV_THREADPOOL_SIZE: String(settings.argon2Concurrency) };
    const server = await startScript(join(home, "server.mjs"), env, nodeArgs(name));
    cleanups.push(() => server.stop());
    results.alternatives[name] = { version: server.version };
    say(`${name} ${server.version} at ${server.url}: registering ${settings.accounts} accounts`);
    try {
      const accounts = await registerAlternativeAccounts(server.url, id, settings.accounts);
      for (const workload of workloads) {
        if (interrupted) break;
        const isPeakReset = resetPeak(server.pid);
        const stopMemory = sampleMemory(server.pid);
        say(`workload: ${workload}`);
        const { warmup, measured } = await load(workload, server.url, { accounts, origin: server.url }, server.pid, settings.connections, { warmupSeconds: warmupOf(workload), rate: settings.rate });
        results.workloads[workload] = { ...measured, alternative: name, warmupErrors: warmup?.errors, memory: { ...stopMemory(), isPeakPerWorkload: isPeakReset } };
        checkErrors(workload, measured, results, name);
        if (warmup) checkErrors(`${workload} (warm-up)`, warmup, results, name);
      }
    } catch (error) {
      results.failures.push({ workload: name, alternative: name, error: String(error?.message ?? error) });
      say(`${name} FAILED to run: ${error?.message ?? error}`);
    } finally {
      cleanups.pop();
      await server.stop();
    }
  }

  // The alternative runs once the service has stopped, so neither shares the cores with the other.
  if (alternative && !interrupted) await compareWith(args.compare, alternative);

  if (!args.embedded && workloadsWanted.has("oneTimeToken") && !interrupted) {
    say(`ceiling: Redis SET + GETDEL at ${settings.connections} in flight`);
    results.ceilings.redis = await runScript(join(ROOT, "bench/ceilings/redis.mjs"), [args["redis-url"], `${keyPrefix}`, String(settings.seconds), String(settings.connections)], baseEnv);
  }

  if (interrupted) return new Promise(() => {}); // the signal handler exits once clean-up is done
  results.machine.loadAfter = loadavg().map((l) => Math.round(l * 100) / 100);
  results.finishedAt = new Date().toISOString();
  results.targets = evaluateTargets(results);
  printReport(results);
  const written = writeReport(results, outDir);
  say(`wrote ${written.join(", ")}`);

  if (settings.profile) for (const path of writeProfileSummaries(results, profileDir)) say(`profile summary: ${path}`);
  return results;
}

/** Any error in a workload's answers fails the run (in --smoke too: speed never does). */
function checkErrors(name, phase, results, alternative = undefined) {
  const { responses, connection, timeouts } = phase.errors;
  if (responses + connection + timeouts > 0 || phase.requests === 0) {
    results.failures.push({ workload: name, alternative, error: `${responses} bad responses, ${connection} connection errors, ${timeouts} timeouts, ${phase.requests} requests`, samples: phase.errorSamples });
    say(`${name}: ERRORS ${JSON.stringify(phase.errors)} ${phase.errorSamples.join(" | ")}`);
  }
}

main()
  .then(async (results) => {
    await cleanUp();
    if (results.failures.length) {
      say(`${results.failures.length} failure(s): ${results.failures.map((f) => f.workload).join(", ")}`);
      process.exit(1);
    }
  })
  .catch(async (error) => {
    console.error(error);
    await cleanUp();
    process.exit(1);
  });

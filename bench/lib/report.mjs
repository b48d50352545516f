// Turns a run's results into ratios against the ceilings, targets with PASS/MISS, a console
// table, and bench/results/{results.json, results.md, chart.svg}.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** Which ceiling each workload is held against: a GraphQL request, or an argon2id hash. */
const CEILING_OF = {
  typename: "graphql",
  me: "graphql",
  oneTimeToken: "graphql",
  refresh: "graphql",
  entities: "graphql",
  login: "argon2",
  register: "argon2",
  // The comparison (--compare better-auth), against the same ceilings as `login` and `me`.
  betterAuthSignIn: "argon2",
  betterAuthSession: "graphql",
};

/** "argon2" or "graphql": the ceiling a workload is held against. */
export const ceilingOf = (name) => CEILING_OF[name];

const round = (value, digits = 2) => (value == null || Number.isNaN(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits);
const fmt = (value, digits = 1) => (value == null ? "n/a" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));

/** Operations per second: pairs for the one-time token workload, requests otherwise. */
export const rateOf = (name, workload) => (name === "oneTimeToken" ? workload.requestsPerSecond / 2 : workload.requestsPerSecond);

function ceilingRate(results, name) {
  const ceiling = results.ceilings[CEILING_OF[name]];
  return ceiling ? (ceiling.perSecond ?? ceiling.requestsPerSecond) : null;
}

/** Service CPU time per operation, in ms: all threads, or with `field` another per-request figure. */
const cpuPerOp = (name, workload, field = "cpuMsPerRequest") => (workload[field] == null ? null : workload[field] * (name === "oneTimeToken" ? 2 : 1));

/**
 * The same comparison in CPU time: what one operation costs the ceiling's process ÷ what it
 * costs the service. Waiting for a core does not count, so this moves less with the machine's
 * load than the throughput ratio (but leaves out the database's and Redis's own CPU).
 */
export function cpuRatioOf(results, name) {
  const workload = results.workloads[name];
  const ceiling = results.ceilings[CEILING_OF[name]]?.cpuMsPerRequest;
  const own = workload && cpuPerOp(name, workload);
  return ceiling && own ? ceiling / own : null;
}

export function ratioOf(results, name) {
  const workload = results.workloads[name];
  const ceiling = ceilingRate(results, name);
  return workload && ceiling ? rateOf(name, workload) / ceiling : null;
}

function median(values) {
  const sorted = values.filter((v) => v != null).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * A workload's paired rounds (run.mjs: its ceiling, then the workload, back to back): each
 * round's ratio in throughput and in CPU time, and their medians; null without rounds.
 */
export function roundRatios(results, name) {
  const rounds = results.rounds?.[name];
  if (!rounds?.length) return null;
  const rate = rounds.map((r) => rateOf(name, r.workload) / r.ceiling.rate);
  const cpu = rounds.map((r) => {
    const own = cpuPerOp(name, r.workload);
    return r.ceiling.cpuMsPerRequest && own ? r.ceiling.cpuMsPerRequest / own : null;
  });
  return { rate, cpu, medianRate: median(rate), medianCpu: median(cpu) };
}

function totalErrors(phase) {
  if (!phase) return 0;
  const { responses, connection, timeouts } = phase.errors;
  return responses + connection + timeouts;
}

/**
 * A ceiling measured more than once: the first run's details, the mean rate, and the spread
 * between runs (how much the machine's own load moved the figures).
 */
export function combineRuns(runs, rateOf) {
  const rates = runs.map(rateOf);
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const spread = rates.length > 1 ? (Math.max(...rates) - Math.min(...rates)) / mean : 0;
  const average = (values) => {
    const known = values.filter((v) => v != null);
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
  };
  const machines = runs.map((run) => run.machine).filter(Boolean);
  return {
    ...runs[0],
    requestsPerSecond: runs[0].requestsPerSecond === undefined ? undefined : mean,
    perSecond: runs[0].perSecond === undefined ? undefined : mean,
    cpuMsPerRequest: average(runs.map((run) => run.cpuMsPerRequest)),
    machine: machines.length
      ? {
          cpuMsPerRequest: average(machines.map((m) => m.cpuMsPerRequest)),
          idleShare: average(machines.map((m) => m.idleShare)),
          loadGeneratorCpuMsPerRequest: average(machines.map((m) => m.loadGeneratorCpuMsPerRequest)),
        }
      : null,
    runs: rates,
    spread,
  };
}

/**
 * Where the whole machine's CPU went per operation, for each workload and ceiling that has the
 * reading: the service's (or the ceiling's) process, the load generator, and the rest
 * (PostgreSQL, Redis, the kernel, anything else running), with the share of the cores left idle.
 */
function machineRows(results) {
  const row = (name, perOp, ownMs, machine) =>
    machine?.cpuMsPerRequest != null && {
      name,
      machineMs: machine.cpuMsPerRequest * perOp,
      ownMs: ownMs == null ? null : ownMs * perOp,
      loadGeneratorMs: machine.loadGeneratorCpuMsPerRequest == null ? null : machine.loadGeneratorCpuMsPerRequest * perOp,
      idleShare: machine.idleShare,
    };
  const withRest = (r) => r && { ...r, restMs: r.machineMs - (r.ownMs ?? 0) - (r.loadGeneratorMs ?? 0) };
  const { graphql, argon2 } = results.ceilings;
  return [
    ...Object.entries(results.workloads).map(([name, w]) => row(name, name === "oneTimeToken" ? 2 : 1, w.cpuMsPerRequest, w.machine)),
    graphql && row("ceiling: { __typename }", 1, graphql.cpuMsPerRequest, graphql.machine),
    argon2 && row("ceiling: argon2id verify", 1, argon2.cpuMsPerRequest, argon2.machine),
  ]
    .filter(Boolean)
    .map(withRest);
}

/**
 * A ratio to a ceiling splits exactly into what the two cost the machine per operation and how
 * busy each kept its cores: rate = busy CPU time ÷ CPU per operation, on both sides.
 */
function loginDecomposition(results) {
  const login = results.workloads.login?.machine;
  const argon2 = results.ceilings.argon2?.machine;
  if (login?.cpuMsPerRequest == null || argon2?.cpuMsPerRequest == null) return null;
  return {
    login,
    argon2,
    cost: argon2.cpuMsPerRequest / login.cpuMsPerRequest,
    busy: (1 - login.idleShare) / (1 - argon2.idleShare),
  };
}

/** The targets of issue 7, each with its measured value and PASS / MISS (n/a when not measured). */
export function evaluateTargets(results) {
  const w = results.workloads;
  const target = (name, value, goal, compare, unit = "", cpuValue = null) => ({
    name,
    // Rates and ratios to three places; ms and MB whole (autocannon counts whole milliseconds).
    value: round(value, unit ? 0 : 3),
    cpuValue: round(cpuValue, 3),
    goal: `${compare === "min" ? "≥" : "≤"} ${goal}${unit}`,
    unit,
    status: value == null ? "n/a" : (compare === "min" ? value >= goal : value <= goal) ? "PASS" : "MISS",
  });
  // The service's own: an alternative's errors fail the run, not this target.
  const own = Object.values(w).filter((phase) => !phase.alternative);
  const errors = own.reduce((sum, phase) => sum + totalErrors(phase) + (phase.warmupErrors ? phase.warmupErrors.responses + phase.warmupErrors.connection + phase.warmupErrors.timeouts : 0), 0);
  const failures = results.failures.filter((f) => !f.alternative).length;
  const meNote = w.me && w.me.connections !== 50 ? ` (measured at ${w.me.connections} connections)` : "";
  // A ratio target is held to the median of its paired rounds when the run made them.
  const ratio = (title, name, goal) => {
    const paired = roundRatios(results, name);
    return paired
      ? target(`${title} (median of ${paired.rate.length} paired rounds)`, paired.medianRate, goal, "min", "", paired.medianCpu)
      : target(title, ratioOf(results, name), goal, "min", "", cpuRatioOf(results, name));
  };
  return [
    ratio("login ÷ argon2id ceiling", "login", 0.9),
    ratio("me ÷ { __typename } ceiling", "me", 0.6),
    target(`me p99 at 50 connections${meNote}`, w.me?.latency.p99, 25, "max", " ms"),
    ratio("one-time token pairs/s ÷ { __typename } ceiling", "oneTimeToken", 0.5),
    target(`_entities (50 users) p99${w.entities ? ` at ${w.entities.connections} connections` : ""}`, w.entities?.latency.p99, 50, "max", " ms"),
    target("errors (all workloads, warm-ups included)", own.length ? errors + failures : null, 0, "max"),
    target("service peak RSS (VmHWM)", results.service.peakRssMb || null, 250, "max", " MB"),
  ];
}

function workloadRows(results) {
  return Object.entries(results.workloads).map(([name, w]) => ({
    name,
    conns: w.connections,
    rate: rateOf(name, w),
    unit: name === "oneTimeToken" ? "pairs/s" : "req/s",
    p50: w.latency.p50,
    p90: w.latency.p90,
    p99: w.latency.p99,
    errors: totalErrors(w),
    peakMb: w.memory.isPeakPerWorkload ? w.memory.peakMb : w.memory.maxRssMb,
    ratio: ratioOf(results, name),
    cpuMs: cpuPerOp(name, w),
    eventLoopMs: cpuPerOp(name, w, "eventLoopCpuMsPerRequest"),
    cpuRatio: cpuRatioOf(results, name),
    ceiling: CEILING_OF[name] === "argon2" ? "argon2id" : "{ __typename }",
  }));
}

function ceilingRows(results) {
  const { graphql, argon2, redis } = results.ceilings;
  const runs = (ceiling, unit) => (ceiling.runs?.length > 1 ? `; mean of ${ceiling.runs.map((r) => fmt(r, 0)).join(" and ")} ${unit} (spread ${fmt(ceiling.spread * 100, 0)}%)` : "");
  return [
    graphql && {
      name: "Fastify + Apollo, trivial schema: { __typename }",
      short: "trivial { __typename }",
      rate: graphql.requestsPerSecond,
      unit: "req/s",
      detail: `p50 ${graphql.latency.p50} ms, p99 ${graphql.latency.p99} ms, ${graphql.connections} connections, ${fmt(graphql.cpuMsPerRequest, 3)} CPU ms/req${runs(graphql, "req/s")}`,
    },
    argon2 && { short: "argon2id verify", name: `argon2id verify (${argon2.options.memoryCost} KiB, t=${argon2.options.timeCost}, p=${argon2.options.parallelism})`, rate: argon2.perSecond, unit: "verifications/s", detail: `${argon2.concurrency} in flight (ARGON2_CONCURRENCY), ${fmt(argon2.cpuMsPerRequest, 1)} CPU ms each${runs(argon2, "/s")}` },
    redis && { name: "Redis SET + GETDEL (ioredis)", short: "Redis SET + GETDEL", rate: redis.perSecond, unit: "pairs/s", detail: `${redis.concurrency} in flight` },
  ].filter(Boolean);
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function printReport(results) {
  const rows = workloadRows(results).map((r) => [
    r.name,
    r.conns,
    `${fmt(r.rate)} ${r.unit}`,
    fmt(r.p50, 0),
    fmt(r.p90, 0),
    fmt(r.p99, 0),
    r.errors,
    fmt(r.peakMb, 0),
    r.ratio == null ? "n/a" : `${fmt(r.ratio, 2)} of ${r.ceiling}`,
    fmt(r.cpuMs, 3),
    fmt(r.eventLoopMs, 3),
    fmt(r.cpuRatio, 2),
  ]);
  console.log(`\nCeilings\n${table(["ceiling", "rate", ""], ceilingRows(results).map((c) => [c.name, `${fmt(c.rate)} ${c.unit}`, c.detail]))}`);
  console.log(
    `\nWorkloads (latency in ms, RSS in MB, service CPU ms per operation)\n${table(["workload", "conns", "rate", "p50", "p90", "p99", "errors", "peak RSS", "÷ ceiling", "CPU ms", "event loop", "÷ ceiling (CPU)"], rows)}`,
  );
  const machine = machineRows(results);
  if (machine.length) {
    console.log(
      `\nWhere the machine's CPU went (ms per operation, all cores)\n${table(
        ["", "machine", "service / ceiling", "load generator", "the rest", "cores idle"],
        machine.map((r) => [r.name, fmt(r.machineMs, 3), fmt(r.ownMs, 3), fmt(r.loadGeneratorMs, 3), fmt(r.restMs, 3), `${fmt(r.idleShare * 100, 0)}%`]),
      )}`,
    );
  }
  const paired = Object.keys(results.rounds ?? {})
    .map((name) => [name, roundRatios(results, name)])
    .filter(([, r]) => r);
  if (paired.length) {
    const list = (values) => values.map((v) => fmt(v, 2)).join(" ");
    console.log(`\nPaired rounds (÷ ceiling per round; the targets use the medians)\n${table(["workload", "throughput", "median", "CPU time", "median"], paired.map(([name, r]) => [name, list(r.rate), fmt(r.medianRate, 2), list(r.cpu), fmt(r.medianCpu, 2)]))}`);
  }
  const targetRows = results.targets.map((t) => [t.name, t.value == null ? "n/a" : `${t.value}${t.unit}`, t.goal, t.status, t.cpuValue == null ? "" : String(t.cpuValue)]);
  console.log(`\nTargets\n${table(["target", "measured", "goal", "", "same in CPU time"], targetRows)}\n`);
}

function markdown(results) {
  const m = results.machine;
  const s = results.settings;
  const lines = [
    "# Benchmark results",
    "",
    `Run \`${results.id}\`, ${results.startedAt}, \`npm run bench${s.smoke ? " -- --smoke" : ""}\`: ${s.backEnds}` +
      ` (${Object.values(results.backEndVersions).join(", ") || "in process"}), NODE_ENV=${s.nodeEnv}, LOG_LEVEL=${s.logLevel}${s.rate ? `, each workload paced at ${s.rate} requests/s` : ""}, ARGON2_CONCURRENCY=${s.argon2Concurrency}` +
      `${Object.entries(s.imageEnv ?? {}).map(([name, value]) => `, ${name}=${value}`).join("")} (the image's);` +
      ` ${s.warmupSeconds} s warm-up (${s.argon2WarmupSeconds ?? s.warmupSeconds} s for the workloads bound by argon2) then ${s.seconds} s per workload, autocannon in its own process.`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.os}; load average ${m.load.join(" / ")} at the start, ${(m.loadAfter ?? []).join(" / ")} at the end.` +
      " Service, database, Redis, load generator and ceilings share these cores, so compare ratios, not absolute rates.",
    "",
    "![throughput and latency per workload](chart.svg)",
    "",
    "## Targets",
    "",
    "| target | measured | goal | | same ratio in CPU time |",
    "| --- | ---: | ---: | --- | ---: |",
    ...results.targets.map((t) => `| ${t.name} | ${t.value == null ? "n/a" : `${t.value}${t.unit}`} | ${t.goal} | **${t.status}** | ${t.cpuValue ?? ""} |`),
    "",
    "## Workloads",
    "",
    "| workload | connections | rate | p50 ms | p90 ms | p99 ms | errors | peak RSS MB | ÷ ceiling | service CPU ms/op | of which event loop | ÷ ceiling (CPU) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ...workloadRows(results).map(
      (r) =>
        `| ${r.name} | ${r.conns} | ${fmt(r.rate)} ${r.unit} | ${fmt(r.p50, 0)} | ${fmt(r.p90, 0)} | ${fmt(r.p99, 0)} | ${r.errors} | ${fmt(r.peakMb, 0)} | ` +
        `${r.ratio == null ? "n/a" : `${fmt(r.ratio, 2)} of ${r.ceiling}`} | ${fmt(r.cpuMs, 3)} | ${fmt(r.eventLoopMs, 3)} | ${fmt(r.cpuRatio, 2)} |`,
    ),
    "",
    `Service peak RSS over the whole run (VmHWM): ${fmt(results.service.peakRssMb, 0)} MB. Errors are non-2xx answers, GraphQL \`errors\`, answers without what the workload expects, connection errors and timeouts.` +
      " CPU ms/op is the service process's user + system time (all threads) over the measured run ÷ operations, of which the event loop's thread spent the next column (the rest is libuv's pool, where argon2 runs, and V8's helper threads); its ratio is the ceiling process's CPU per operation ÷ the service's, which waiting for a busy core does not move.",
    "",
    ...machineLines(results),
    ...pairedRoundLines(results),
    "## Ceilings (measured in the same run)",
    "",
    "| ceiling | rate | |",
    "| --- | ---: | --- |",
    ...ceilingRows(results).map((c) => `| ${c.name} | ${fmt(c.rate)} ${c.unit} | ${c.detail} |`),
    "",
  ];
  const ott = results.workloads.oneTimeToken;
  const login = results.workloads.login;
  const argon2 = results.ceilings.argon2;
  const ceiling = results.ceilings.graphql?.requestsPerSecond;
  lines.push(
    "## Notes",
    "",
    "- A one-time token pair is two HTTP requests, each at least as costly as one `{ __typename }` of the ceiling, so 0.5 is what that ratio reaches at zero work" +
      (ott && ceiling ? `; per request it is ${fmt(ott.requestsPerSecond / ceiling, 2)} of the ceiling.` : "."),
    `- \`_entities\` runs at ${s.entitiesConnections} connections (\`--entities-connections\`): its target is a latency, and with more connections than the service can serve at once the p99 measures the queue.`,
    "- Login and register are held against raw argon2id verifications (a hash costs the same) at the service's ARGON2_CONCURRENCY; the argon2 threads and the service's event loop share the same cores." +
      (login?.eventLoopCpuMsPerRequest != null && argon2?.cpuMsPerRequest
        ? ` Per login, the service's threads other than the event loop (argon2's, mostly) used ${fmt(login.cpuMsPerRequest - login.eventLoopCpuMsPerRequest, 1)} CPU ms against the ceiling's ${fmt(argon2.cpuMsPerRequest, 1)} per verification, and the event loop ${fmt(login.eventLoopCpuMsPerRequest, 1)}.`
        : ""),
    "",
  );
  const betterAuth = results.alternatives?.["better-auth"];
  if (betterAuth) {
    lines.splice(
      lines.length - 1,
      0,
      `- \`betterAuthSignIn\` and \`betterAuthSession\` are Better Auth ${betterAuth.version} (\`--compare better-auth\`, bench/alternatives/better-auth/), set up as its docs do on Node:` +
        " node:http through `toNodeHandler`, a `pg` Pool, email and password with argon2id at the service's parameters (the same `argon2` package, libuv's pool sized to ARGON2_CONCURRENCY), its rate limiter off." +
        " It ran after the service had stopped, on a database of its own, under the same load generator and readings. Its get-session reads the session and its user from PostgreSQL on every request, as `me` does;" +
        " it is not GraphQL, and its rows are held against the ceilings of `login` and `me` for scale.",
    );
  }
  if (results.failures.length) lines.push("## Failures", "", ...results.failures.map((f) => `- ${f.workload}: ${f.error}${f.samples?.length ? ` (${f.samples[0]})` : ""}`), "");
  return lines.join("\n");
}

function machineLines(results) {
  const rows = machineRows(results);
  if (!rows.length) return [];
  const split = loginDecomposition(results);
  return [
    "## Where the machine's CPU went",
    "",
    "CPU ms per operation over each measured run, summed over all cores (`/proc/stat`): the whole machine, the service's process (for a ceiling, its own),",
    "the load generator's, and the rest (PostgreSQL, Redis, the kernel, anything else running); and the share of the cores left idle.",
    "Process and machine times come from different counters: the rest is good to about 2% of the machine's figure, and a small negative means nothing else ran.",
    "",
    "| | machine | service / ceiling | load generator | the rest | cores idle |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.name} | ${fmt(r.machineMs, 3)} | ${fmt(r.ownMs, 3)} | ${fmt(r.loadGeneratorMs, 3)} | ${fmt(r.restMs, 3)} | ${fmt(r.idleShare * 100, 0)}% |`),
    "",
    ...(split
      ? [
          `A rate is the busy CPU time ÷ the CPU per operation, so login ÷ argon2id splits exactly into what each costs the machine and how busy each kept it: ` +
            `${fmt(split.argon2.cpuMsPerRequest, 1)} ÷ ${fmt(split.login.cpuMsPerRequest, 1)} ms = ${fmt(split.cost, 3)}, ` +
            `times ${fmt((1 - split.login.idleShare) * 100, 0)}% ÷ ${fmt((1 - split.argon2.idleShare) * 100, 0)}% busy = ${fmt(split.busy, 3)}; ` +
            `${fmt(split.cost * split.busy, 3)} in this run (the full runs, not the paired rounds).`,
          "",
        ]
      : []),
  ];
}

function pairedRoundLines(results) {
  const names = Object.keys(results.rounds ?? {}).filter((name) => results.rounds[name].length);
  if (!names.length) return [];
  const list = (values) => values.map((v) => fmt(v, 2)).join(", ");
  return [
    "## Paired rounds",
    "",
    `Each round runs the ceiling, then the workload, for ${results.settings.roundSeconds} s each, back to back at ${results.settings.connections} connections; the targets above use the medians.`,
    "",
    "| workload | ÷ ceiling, per round | median | ÷ ceiling in CPU time, per round | median | p99 ms, per round |",
    "| --- | --- | ---: | --- | ---: | --- |",
    ...names.map((name) => {
      const r = roundRatios(results, name);
      return `| ${name} | ${list(r.rate)} | ${fmt(r.medianRate, 2)} | ${list(r.cpu)} | ${fmt(r.medianCpu, 2)} | ${results.rounds[name].map((round) => round.workload.p99).join(", ")} |`;
    }),
    "",
  ];
}

const escapeXml = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars on a log scale: one panel for throughput, one for p50/p90/p99 latency. */
export function chart(results) {
  const rows = workloadRows(results);
  const ceilings = ceilingRows(results);
  const labelWidth = 250;
  const plotWidth = 560;
  const rowHeight = 24;
  const scale = (values) => {
    const positive = values.filter((v) => v > 0);
    const lo = 10 ** Math.floor(Math.log10(Math.min(...positive, 1)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive, 10)));
    return { lo, hi, x: (v) => (v <= lo ? 0 : ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotWidth) };
  };
  const parts = [];
  let y = 20;
  const axis = (s, top, bottom, unit) => {
    for (let v = s.lo; v <= s.hi; v *= 10) {
      const x = labelWidth + s.x(v);
      parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`, `<text x="${x}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="#555">${v.toLocaleString("en-US")}${unit}</text>`);
    }
  };

  const throughput = [...ceilings.map((c) => ({ label: `ceiling: ${c.short}`, value: c.rate, unit: c.unit, color: "#9aa5b1" })), ...rows.map((r) => ({ label: r.name, value: r.rate, unit: r.unit, color: "#2f6fb0" }))];
  const t = scale(throughput.map((b) => b.value));
  parts.push(`<text x="10" y="${y}" font-size="14" font-weight="bold">Throughput per second (log scale)</text>`);
  y += 12;
  const throughputTop = y;
  y += throughput.length * rowHeight;
  axis(t, throughputTop, y, "");
  throughput.forEach((b, i) => {
    const top = throughputTop + i * rowHeight;
    parts.push(
      `<text x="${labelWidth - 8}" y="${top + 16}" font-size="12" text-anchor="end">${escapeXml(b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label)}</text>`,
      `<rect x="${labelWidth}" y="${top + 4}" width="${Math.max(1, t.x(b.value))}" height="${rowHeight - 8}" fill="${b.color}"/>`,
      `<text x="${labelWidth + t.x(b.value) + 4}" y="${top + 16}" font-size="11">${fmt(b.value)} ${escapeXml(b.unit)}</text>`,
    );
  });
  y += 44;

  const colors = { p50: "#7fb77e", p90: "#e0b84f", p99: "#d0624f" };
  const l = scale(rows.flatMap((r) => [r.p50, r.p90, r.p99]));
  parts.push(`<text x="10" y="${y}" font-size="14" font-weight="bold">Latency, ms (log scale):</text>`);
  Object.entries(colors).forEach(([name, color], i) => parts.push(`<rect x="${210 + i * 60}" y="${y - 10}" width="10" height="10" fill="${color}"/><text x="${224 + i * 60}" y="${y}" font-size="12">${name}</text>`));
  y += 12;
  const latencyTop = y;
  const latencyRow = rowHeight + 6;
  y += rows.length * latencyRow;
  axis(l, latencyTop, y, "");
  rows.forEach((r, i) => {
    const top = latencyTop + i * latencyRow;
    parts.push(`<text x="${labelWidth - 8}" y="${top + 18}" font-size="12" text-anchor="end">${escapeXml(r.name)} (${r.conns} conns)</text>`);
    ["p50", "p90", "p99"].forEach((p, j) => {
      parts.push(`<rect x="${labelWidth}" y="${top + 3 + j * 8}" width="${Math.max(1, l.x(r[p]))}" height="7" fill="${colors[p]}"/>`);
    });
    parts.push(`<text x="${labelWidth + l.x(r.p99) + 4}" y="${top + 18}" font-size="11">${fmt(r.p50, 0)} / ${fmt(r.p90, 0)} / ${fmt(r.p99, 0)}</text>`);
  });
  y += 34;
  const width = labelWidth + plotWidth + 150;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join("\n")}\n</svg>\n`;
}

/** Writes results.json, results.md and chart.svg; returns their paths. */
export function writeReport(results, outDir) {
  const files = { "results.json": `${JSON.stringify(results, null, 2)}\n`, "results.md": markdown(results), "chart.svg": chart(results) };
  return Object.entries(files).map(([name, content]) => {
    const path = join(outDir, name);
    writeFileSync(path, content);
    return path;
  });
}

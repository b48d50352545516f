// Sums a V8 .cpuprofile (node --cpu-prof) by function and by package or file: self time
// (where the CPU was) and total time (what was on the stack, each function once per stack),
// optionally only over a time window (CLOCK_MONOTONIC µs, as bench/results/results.json
// records each workload's measured run).
//   node bench/profile-summary.mjs FILE.cpuprofile [--top N] [--grep TEXT] [--from US --to US]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** node_modules/<package> (scoped too), dist/<file>, node:<module>, or the V8 pseudo-frame. */
function placeOf(frame) {
  const url = frame.url ?? "";
  if (!url) return `(${frame.functionName || "native"})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/(dist|src|bench)\/(.+)$/.exec(url);
  if (dist) return `${dist[1]}/${dist[2]}`;
  if (url.startsWith("node:")) return url;
  return url.replace(/^file:\/\//, "");
}

function functionOf(frame) {
  const name = frame.functionName || "(anonymous)";
  const url = frame.url ? `${placeOf(frame)}:${frame.lineNumber + 1}` : "";
  return url ? `${name} ${url}` : name;
}

/**
 * @param {string} file
 * @param {{ top?: number, grep?: string, fromUs?: number, toUs?: number }} [options]
 */
export function summarizeProfile(file, options = {}) {
  const top = options.top ?? 30;
  const from = options.fromUs ?? -Infinity;
  const to = options.toUs ?? Infinity;
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at <= to) selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  });
  const totalMs = [...selfMs.values()].reduce((a, b) => a + b, 0);

  const self = { fn: new Map(), place: new Map() };
  const total = { fn: new Map(), place: new Map() };
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  const root = profile.nodes[0];
  // Depth-first, keeping how often each function and place is on the current stack, so a
  // recursive function or a package calling itself counts once in the total.
  const onStack = { fn: new Map(), place: new Map() };
  const stack = [{ node: root, entered: false }];
  while (stack.length) {
    const item = stack.pop();
    const { node } = item;
    const keys = { fn: functionOf(node.callFrame), place: placeOf(node.callFrame) };
    if (item.entered) {
      for (const kind of ["fn", "place"]) onStack[kind].set(keys[kind], onStack[kind].get(keys[kind]) - 1);
      continue;
    }
    for (const kind of ["fn", "place"]) onStack[kind].set(keys[kind], (onStack[kind].get(keys[kind]) ?? 0) + 1);
    const ms = selfMs.get(node.id) ?? 0;
    if (ms) {
      add(self.fn, keys.fn, ms);
      add(self.place, keys.place, ms);
      for (const kind of ["fn", "place"]) for (const [key, count] of onStack[kind]) if (count > 0) add(total[kind], key, ms);
    }
    stack.push({ node, entered: true });
    for (const child of node.children ?? []) stack.push({ node: byId.get(child), entered: false });
  }

  // V8 counts the time the thread waited for work as "(idle)": left out of the percentages.
  const idle = self.fn.get("(idle)") ?? 0;
  const busy = totalMs - idle;
  const pct = (ms) => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (map, title) => {
    const rows = [...map.entries()]
      .filter(([key]) => key !== "(idle)" && key !== "((idle))" && (!options.grep || key.includes(options.grep)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    return [`${title}`, ...rows.map(([key, ms]) => `${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${key}`)].join("\n");
  };
  return [
    `${file}${Number.isFinite(from) ? ` from ${from} to ${to} µs` : ""}: ${(totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (${(idle / 1000).toFixed(1)} s idle); percentages of busy time`,
    "",
    list(self.place, "self time by package / file"),
    "",
    list(total.place, "total time by package / file (on the stack)"),
    "",
    list(self.fn, "self time by function"),
    "",
    list(total.fn, "total time by function (on the stack)"),
  ].join("\n");
}

/**
 * One summary per measured run, written beside the profiles: the trivial server's for the
 * ceiling, the service's for each workload (over that workload's window only).
 * @returns {string[]} the files written
 */
export function writeProfileSummaries(results, profileDir) {
  const runs = [
    ["ceiling-graphql", "ceiling-graphql-1.cpuprofile", results.ceilings.graphql],
    // An alternative's workloads (--compare) are in its own process's profile.
    ...Object.entries(results.workloads).map(([name, workload]) => [name, `${workload.alternative ?? "service"}.cpuprofile`, workload]),
  ];
  const written = [];
  for (const [name, file, run] of runs) {
    const path = join(profileDir, file);
    if (!run?.window || !existsSync(path)) continue;
    const summaryPath = join(profileDir, `${name}.txt`);
    writeFileSync(summaryPath, `${summarizeProfile(path, { top: 40, ...run.window })}\n`);
    written.push(summaryPath);
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "30" }, grep: { type: "string" }, from: { type: "string" }, to: { type: "string" } },
  });
  if (!positionals.length) {
    console.error("usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N] [--grep TEXT] [--from US --to US]");
    process.exit(2);
  }
  const window = { fromUs: values.from ? Number(values.from) : undefined, toUs: values.to ? Number(values.to) : undefined };
  for (const file of positionals) console.log(summarizeProfile(file, { top: Number(values.top), grep: values.grep, ...window }));
}

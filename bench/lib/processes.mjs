// Child processes of the bench: the service under test (`node dist/server.js`), the ceiling
// scripts, and the load generator. Their memory is read from /proc.
import { fork, spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Every child still running: none outlives the bench, however it ends (a signal included). */
const running = new Set();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** @template {import("node:child_process").ChildProcess} T @param {T} child @returns {T} */
function tracked(child) {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak) of a process, in MB; null once it has gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/** Starts the peak (VmHWM) over from the current RSS, so each workload gets its own peak. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `intervalMs` until stopped; returns the largest sample and VmHWM. */
export function sampleMemory(pid, intervalMs = 200) {
  let maxRssMb = 0;
  const sample = () => {
    const memory = memoryOf(pid);
    if (memory) maxRssMb = Math.max(maxRssMb, memory.rssMb);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return () => {
    clearInterval(timer);
    sample();
    return { maxRssMb, peakMb: memoryOf(pid)?.peakMb ?? maxRssMb };
  };
}

/**
 * Starts `node dist/server.js` with `env`, its output appended to `logFile`, and resolves
 * once GET /readyz answers 200.
 * `nodeArgs` go before the script: Node 20 refuses --cpu-prof in NODE_OPTIONS.
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, port: number, logFile: string, nodeArgs?: string[], timeoutMs?: number }} options
 */
export async function startService({ cwd, env, port, logFile, nodeArgs = [], timeoutMs = 60_000 }) {
  const log = openSync(logFile, "a");
  const child = tracked(spawn(process.execPath, [...nodeArgs, "dist/server.js"], { cwd, env, stdio: ["ignore", log, log] }));
  closeSync(log);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let gone = null;
  void exited.then((status) => (gone = status));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`the service exited while starting (${JSON.stringify(gone)}); see ${logFile}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the service was not ready within ${timeoutMs} ms; see ${logFile}`);
    }
    await sleep(200);
  }
  return {
    url,
    pid: /** @type {number} */ (child.pid),
    /** How the service ended, while the bench still needs it (null while it runs). */
    get exitStatus() {
      return gone;
    },
    /** SIGTERM (a graceful close, which also writes a --cpu-prof profile), SIGKILL after 20 s. */
    async stop() {
      if (gone) return gone;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

/** Runs a ceiling script to its end and parses the JSON line it prints. */
export function runScript(script, args, env) {
  return new Promise((resolve, reject) => {
    const child = tracked(spawn(process.execPath, [script, ...args], { env, stdio: ["ignore", "pipe", "inherit"] }));
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? ""));
      } catch {
        reject(new Error(`${script} printed no result: ${out}`));
      }
    });
  });
}

/** Starts a script that prints one JSON line once it listens (the trivial GraphQL server). */
export function startScript(script, env, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = tracked(spawn(process.execPath, [...nodeArgs, script], { env, stdio: ["ignore", "pipe", "inherit"] }));
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it listened`)));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (!out.includes("\n")) return;
      child.removeAllListeners("exit");
      resolve({
        ...JSON.parse(out.split("\n")[0]),
        pid: child.pid,
        stop: () => new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once("exit", done).kill("SIGTERM"))),
      });
    });
  });
}

/**
 * CPU time (user + system) a process has used so far, in ms: all its threads, or with
 * `thread` only that one (the process's own id is its main thread: Node's event loop);
 * null once it has gone.
 */
export function cpuTimeOf(pid, thread) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

// USER_HZ: 100 on every Linux the bench runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/**
 * The whole machine's CPU time so far, in ms summed over its cores (/proc/stat): busy (user,
 * nice, system, irq, softirq: every process and the kernel) and idle (idle, iowait). Time
 * stolen by the hypervisor is in neither. Null where /proc/stat cannot be read.
 * @returns {{ busyMs: number, idleMs: number } | null}
 */
export function machineCpuTime() {
  try {
    const [user, nice, system, idle, iowait, irq, softirq] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const ms = (ticks) => (ticks * 1000) / CLOCK_TICKS;
    return { busyMs: ms(user + nice + system + irq + softirq), idleMs: ms(idle + iowait) };
  } catch {
    return null;
  }
}

/**
 * Where the machine's CPU went between two readings, per operation: all of it, and the share
 * of the cores left idle.
 */
export function machineCpuPerOperation(start, end, operations) {
  if (!start || !end || !(operations > 0)) return null;
  const busy = end.busyMs - start.busyMs;
  const idle = end.idleMs - start.idleMs;
  return { cpuMsPerRequest: busy / operations, idleShare: idle / (busy + idle) };
}

/**
 * One workload in the load generator's own process: a warm-up, then the measured run. With
 * `serverPid`, the measured run also gets the CPU time that process spent on it.
 * @returns {Promise<{ warmup: any, measured: any }>}
 */
export function runLoad(message, serverPid) {
  return new Promise((resolve, reject) => {
    const child = tracked(fork(new URL("./load.mjs", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    // [all threads, the event loop's thread]
    const cpuTimes = () => (serverPid ? [cpuTimeOf(serverPid), cpuTimeOf(serverPid, serverPid)] : [null, null]);
    let cpuAtStart = [null, null];
    // The whole machine's, and the load generator's own.
    const otherTimes = () => ({ machine: machineCpuTime(), loadGenerator: cpuTimeOf(child.pid) });
    let othersAtStart = otherTimes();
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the load generator exited with ${code}`)));
    child.on("message", (/** @type {any} */ answer) => {
      if (answer.measuring) {
        othersAtStart = otherTimes();
        return void (cpuAtStart = cpuTimes());
      }
      const cpuAtEnd = cpuTimes();
      const othersAtEnd = otherTimes();
      child.removeAllListeners("exit");
      child.kill();
      if (!answer.ok) return reject(new Error(answer.error));
      const { measured } = answer;
      if (!cpuAtStart.includes(null) && !cpuAtEnd.includes(null) && measured.requests > 0) {
        measured.cpuMs = cpuAtEnd[0] - cpuAtStart[0];
        measured.cpuMsPerRequest = measured.cpuMs / measured.requests;
        // What the event loop spent; the rest is libuv's pool (argon2), V8's helpers and the like.
        measured.eventLoopCpuMsPerRequest = (cpuAtEnd[1] - cpuAtStart[1]) / measured.requests;
      }
      measured.machine = machineCpuPerOperation(othersAtStart.machine, othersAtEnd.machine, measured.requests);
      if (measured.machine && othersAtStart.loadGenerator != null && othersAtEnd.loadGenerator != null) {
        measured.machine.loadGeneratorCpuMsPerRequest = (othersAtEnd.loadGenerator - othersAtStart.loadGenerator) / measured.requests;
      }
      resolve(answer);
    });
    child.send(message);
  });
}

/**
 * The runtime settings the container image gives the service (`ENV` of the Dockerfile's
 * last stage, but NODE_ENV, which the bench sets itself), so the bench measures the service
 * as it is deployed.
 * @param {string} dockerfile the Dockerfile's text
 * @returns {Record<string, string>}
 */
export function imageEnvironment(dockerfile) {
  const lines = dockerfile.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((line) => line.trim());
  const lastStage = lines.slice(lines.findLastIndex((line) => /^FROM\s/i.test(line)));
  const env = {};
  for (const line of lastStage) {
    const [, assignments] = /^ENV\s+(.*)$/i.exec(line) ?? [];
    for (const [, name, value] of assignments?.matchAll(/(\w+)=("[^"]*"|\S+)/g) ?? []) env[name] = value.replace(/^"|"$/g, "");
  }
  delete env.NODE_ENV;
  return env;
}

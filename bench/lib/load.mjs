// The load generator, in a process of its own so its CPU is not the orchestrator's: runs
// autocannon against one workload (a warm-up, then the measured run) and reports back over IPC.
// Started by bench/lib/runner.mjs with child_process.fork.
import autocannon from "autocannon";
import { WORKLOADS } from "./workloads.mjs";

const MAX_SAMPLES = 5;

/**
 * @param {{ url: string, workload: string, connections: number, seconds: number, rate: number | null, data: any }} phase
 */
async function runPhase(phase) {
  const workload = WORKLOADS[phase.workload];
  if (!workload) throw new Error(`unknown workload ${phase.workload}`);
  const tally = { ok: 0, failed: 0, samples: /** @type {string[]} */ ([]) };
  /** @type {import("./workloads.mjs").Recorder} */
  const record = (ok, problem) => {
    if (ok) return void tally.ok++;
    tally.failed++;
    if (tally.samples.length < MAX_SAMPLES) tally.samples.push(problem ?? "unknown");
  };
  let client = 0;
  // CLOCK_MONOTONIC in µs, the clock of V8's CPU profiles: the window a profile summary keeps.
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await autocannon({
    url: phase.url,
    connections: phase.connections,
    duration: phase.seconds,
    timeout: 30,
    ...(phase.rate && { overallRate: phase.rate }),
    // Each connection gets its own sequence (and with it its own state: a refresh chain, a token).
    setupClient: (c) => c.setRequests(workload.requests(client++, phase.data, record)),
  });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  return {
    window: { fromUs, toUs },
    seconds: phase.seconds,
    connections: phase.connections,
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / (result.duration || phase.seconds),
    latency: { mean: result.latency.mean, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    answered: tally.ok + tally.failed,
    errors: {
      // A response that is not a 2xx, carries GraphQL errors, or lacks what the workload expects.
      responses: tally.failed,
      connection: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
    },
    errorSamples: tally.samples,
  };
}

process.on("message", async (/** @type {any} */ message) => {
  try {
    const warmup = message.warmup ? await runPhase(message.warmup) : null;
    // The parent reads the server's CPU time now and at the end.
    process.send?.({ measuring: true });
    const measured = await runPhase(message.measured);
    process.send?.({ ok: true, warmup, measured });
  } catch (error) {
    process.send?.({ ok: false, error: String(error?.stack ?? error) });
  }
});

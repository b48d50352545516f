// Ceiling of a login: raw argon2id verifications per second at the service's parameters,
// with as many in flight as the service allows (ARGON2_CONCURRENCY, by default one per core).
// Prints one JSON line.
import { availableParallelism } from "node:os";
import argon2 from "argon2";
import { machineCpuTime, machineCpuPerOperation } from "../lib/processes.mjs";

const [seconds = "5", memoryCost = "19456", timeCost = "2", parallelism = "1"] = process.argv.slice(2);
const options = { type: argon2.argon2id, memoryCost: Number(memoryCost), timeCost: Number(timeCost), parallelism: Number(parallelism) };
const concurrency = Number(process.env.ARGON2_CONCURRENCY ?? availableParallelism());
const password = "bench correct horse battery";
const hash = await argon2.hash(password, options);

let count = 0;
async function verifyFor(ms) {
  const end = performance.now() + ms;
  count = 0;
  const worker = async () => {
    while (performance.now() < end) {
      if (!(await argon2.verify(hash, password))) throw new Error("argon2 verification failed");
      count++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}

await verifyFor(1000);
const cpu = process.cpuUsage();
const machineAtStart = machineCpuTime();
const perSecond = await verifyFor(Number(seconds) * 1000);
const { user, system } = process.cpuUsage(cpu);
const cpuMsPerRequest = (user + system) / 1000 / count;
// What the whole machine spent per verification, and how much of the cores stayed idle.
const machine = machineCpuPerOperation(machineAtStart, machineCpuTime(), count);
console.log(JSON.stringify({ perSecond, cpuMsPerRequest, machine, concurrency, options: { memoryCost: options.memoryCost, timeCost: options.timeCost, parallelism: options.parallelism } }));

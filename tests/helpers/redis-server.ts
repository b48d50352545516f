import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestCertificates } from "./certificates";
import { freePort } from "./tcp-relay";
import { waitFor } from "./wait-for";

/** Whether a `redis-server` binary is on PATH (the tests that start their own Redis need one). */
export const hasRedisServer = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
/** Whether `redis-cli` is too (it puts a cluster together). */
export const hasRedisCli = spawnSync("redis-cli", ["--version"], { stdio: "ignore" }).status === 0;

export interface RedisServer {
  /** Whether the process is still running. */
  alive(): boolean;
  /** Kills the server (SIGKILL: it goes away as a crashed one would, without a goodbye). */
  kill(): Promise<void>;
}

/**
 * TLS only: the plain port is closed, clients need not show a certificate, and a Sentinel or a
 * replica connects to other servers over TLS too.
 */
const tlsOnly = (port: number, certificates: TestCertificates) => ({
  port: "0",
  "tls-port": String(port),
  "tls-cert-file": certificates.certFile,
  "tls-key-file": certificates.keyFile,
  "tls-ca-cert-file": certificates.caFile,
  "tls-auth-clients": "no",
  "tls-replication": "yes",
});

/**
 * A throwaway redis-server on `port`, in memory only; resolves once it answers PING. `args`
 * adds to its command line (--replicaof …). A replica's initial sync still writes an RDB
 * file: it goes to a temporary directory of the server's own. With `certificates` it speaks
 * TLS only.
 */
export async function startRedisServer(port: number, args: string[] = [], certificates?: TestCertificates): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "redis-"));
  const settings = { port: String(port), bind: "127.0.0.1", dir, save: "", appendonly: "no", daemonize: "no", ...(certificates && tlsOnly(port, certificates)) };
  const options = Object.entries(settings).flatMap(([setting, value]) => [`--${setting}`, value]);
  const child: ChildProcess = spawn("redis-server", [...options, ...args], { stdio: "ignore" });
  return serverProcess(child, port, dir, certificates);
}

/**
 * A Redis Cluster over `ports`, its 16384 slots shared out by redis-cli among the masters,
 * each with `replicas` replicas; resolves once every node reports the cluster ok and every
 * replica holds its master's data. With `certificates` its nodes speak TLS only, to clients
 * and to each other.
 */
export async function startRedisCluster(ports: number[], options: { certificates?: TestCertificates; replicas?: number } = {}): Promise<RedisServer[]> {
  const { certificates, replicas = 0 } = options;
  // A replica syncs at once rather than after the default 5 s wait for others to join it.
  const settings = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0"];
  if (certificates) settings.push("--tls-cluster", "yes");
  // Each node's bus gets a free port of its own: by default it is the node's port + 10000,
  // which may be taken, or above 65535 for a port from the ephemeral range.
  const taken = new Set(ports);
  const busPorts: number[] = [];
  while (busPorts.length < ports.length) {
    const port = await freePort();
    if (taken.has(port)) continue;
    taken.add(port);
    busPorts.push(port);
  }
  const nodes = await Promise.all(ports.map((port, i) => startRedisServer(port, [...settings, "--cluster-port", String(busPorts[i])], certificates)));
  const cli = (...args: string[]) => {
    try {
      return execFileSync("redis-cli", [...(certificates ? ["--tls", "--cacert", certificates.caFile] : []), ...args], { encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      // execFileSync's message names only the command: what redis-cli said is what tells why.
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli ${args.join(" ")} failed:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
    }
  };
  cli("--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", String(replicas), "--cluster-yes");
  await waitFor(async () => {
    for (const port of ports) {
      const info = cli("-p", String(port), "cluster", "info");
      if (!info.includes("cluster_state:ok")) throw new Error(`node ${port}: ${info.split("\n")[0]}`);
      // A replica that never finished its first sync refuses to take over from its master.
      const replication = cli("-p", String(port), "info", "replication");
      if (replication.includes("role:slave") && !replication.includes("master_link_status:up")) throw new Error(`node ${port}: replica not in sync yet`);
    }
  }, 10_000);
  return nodes;
}

/**
 * A Redis Sentinel on `port` watching the master at 127.0.0.1:`masterPort` as group `name`,
 * alone (quorum 1) and quick to act: down after 1 s. Sentinel rewrites its config file, so it
 * gets one of its own in a temporary directory.
 */
export async function startSentinel(port: number, masterPort: number, name: string, certificates?: TestCertificates): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "sentinel-"));
  const config = path.join(dir, "sentinel.conf");
  const settings = { port: String(port), bind: "127.0.0.1", dir, ...(certificates && tlsOnly(port, certificates)) };
  writeFileSync(
    config,
    [
      ...Object.entries(settings).map(([setting, value]) => `${setting} ${value}`),
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
    ].join("\n"),
  );
  const child: ChildProcess = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
  return serverProcess(child, port, dir, certificates);
}

/** Resolves once the server answers PING; killing it removes its directory. */
async function serverProcess(child: ChildProcess, port: number, dir: string, certificates?: TestCertificates): Promise<RedisServer> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitFor(() => ping(port, certificates), 5000);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    alive,
    async kill() {
      if (alive()) child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One PING over a plain socket, or over TLS: resolves on PONG (or on NOAUTH, from a server with a password), rejects on anything else. */
function ping(port: number, certificates?: TestCertificates): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = () => socket.write("PING\r\n");
    const socket = certificates
      ? tls.connect({ port, host: "127.0.0.1", ca: certificates.caPem }, send)
      : net.connect(port, "127.0.0.1", send);
    socket.setTimeout(1000, () => socket.destroy(new Error("no answer")));
    socket.once("data", (data) => {
      socket.destroy();
      if (/^(\+PONG|-NOAUTH)/.test(data.toString())) resolve();
      else reject(new Error(`redis-server answered ${data.toString().trim()}`));
    });
    socket.once("error", reject);
  });
}

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitFor } from "./wait-for";

/** Whether a `redis-server` binary is on PATH (the tests that start their own Redis need one). */
export const hasRedisServer = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

export interface RedisServer {
  /** Kills the server (SIGKILL: it goes away as a crashed one would, without a goodbye). */
  kill(): Promise<void>;
}

/**
 * A throwaway redis-server on `port`, in memory only; resolves once it answers PING. `args`
 * adds to its command line (--replicaof …). A replica's initial sync still writes an RDB
 * file: it goes to a temporary directory of the server's own.
 */
export async function startRedisServer(port: number, args: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "redis-"));
  const options = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no"];
  const child: ChildProcess = spawn("redis-server", [...options, ...args], { stdio: "ignore" });
  return serverProcess(child, port, dir);
}

/**
 * A Redis Sentinel on `port` watching the master at 127.0.0.1:`masterPort` as group `name`,
 * alone (quorum 1) and quick to act: down after 1 s. Sentinel rewrites its config file, so it
 * gets one of its own in a temporary directory.
 */
export async function startSentinel(port: number, masterPort: number, name: string): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "sentinel-"));
  const config = path.join(dir, "sentinel.conf");
  writeFileSync(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
    ].join("\n"),
  );
  const child: ChildProcess = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
  return serverProcess(child, port, dir);
}

/** Resolves once the server answers PING; killing it removes its directory. */
async function serverProcess(child: ChildProcess, port: number, dir: string): Promise<RedisServer> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitFor(() => ping(port), 5000);
  return {
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One PING over a plain socket: resolves on PONG, rejects on anything else. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
    socket.setTimeout(1000, () => socket.destroy(new Error("no answer")));
    socket.once("data", (data) => {
      socket.destroy();
      if (data.toString().startsWith("+PONG")) resolve();
      else reject(new Error(`redis-server answered ${data.toString().trim()}`));
    });
    socket.once("error", reject);
  });
}

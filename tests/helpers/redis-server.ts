import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { waitFor } from "./wait-for";

/** Whether a `redis-server` binary is on PATH (the tests that start their own Redis need one). */
export const hasRedisServer = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;

export interface RedisServer {
  /** Kills the server (SIGKILL: it goes away as a crashed one would, without a goodbye). */
  kill(): Promise<void>;
}

/** A throwaway redis-server on `port`, in memory only; resolves once it answers PING. */
export async function startRedisServer(port: number): Promise<RedisServer> {
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"], {
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitFor(() => ping(port), 5000);
  return {
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
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

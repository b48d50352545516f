import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { TestDatabase } from "./databases";
import { freePort } from "./tcp-relay";
import { testEnv } from "./test-app";

// The compiled server, run as the container runs it (node dist/server.js). dist/ is built once
// by global-setup.ts, so it is the current source.
const root = path.resolve(__dirname, "../..");

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Starts `node [nodeArgs] dist/server.js` over the test database and waits until it listens. */
export async function startServerProcess(env: Record<string, string | undefined>, database: TestDatabase, nodeArgs: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const server = spawnServer({ PORT: String(port), DATABASE_URL: database.url, DATA_DIR: database.dataDir, ...env }, nodeArgs);
  const listening = new Promise<void>((resolve, reject) => {
    const check = () => server.output().includes("auth service listening") && resolve();
    server.child.stdout!.on("data", check);
    void server.exited.then(() => reject(new Error(`the server exited before listening:\n${server.output()}`)));
  });
  await listening;
  return { url: `http://127.0.0.1:${port}`, ...server };
}

/** The compiled server started with the test settings and `env`, not yet listening. */
export function spawnServer(env: Record<string, string | undefined>, nodeArgs: string[] = []): Omit<ServerProcess, "url"> {
  const child = spawn(process.execPath, [...nodeArgs, "dist/server.js"], {
    cwd: root,
    env: { PATH: process.env.PATH, ...testEnv({ LOG_LEVEL: "info", ...env }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

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
export async function startServerProcess(env: Record<string, string>, database: TestDatabase, nodeArgs: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, "dist/server.js"], {
    cwd: root,
    env: { PATH: process.env.PATH, ...testEnv({ PORT: String(port), LOG_LEVEL: "info", DATABASE_URL: database.url, DATA_DIR: database.dataDir, ...env }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const listening = new Promise<void>((resolve, reject) => {
    const check = () => output.includes("auth service listening") && resolve();
    child.stdout!.on("data", check);
    void exited.then(() => reject(new Error(`the server exited before listening:\n${output}`)));
  });
  await listening;
  return { url: `http://127.0.0.1:${port}`, child, exited, output: () => output };
}

// Better Auth (email and password) as the bench's comparison: started by bench/run.mjs with
// `--compare better-auth`, on a PostgreSQL database of its own (DATABASE_URL), as its docs set
// it up for Node (node:http through toNodeHandler, a pg Pool). For a like-for-like login its
// password hashing is argon2id with the service's parameters (ARGON2_*), through the same
// `argon2` package (resolved from the project's node_modules), and the bench caps the hashes
// in flight by sizing libuv's pool (UV_THREADPOOL_SIZE) as the service's ARGON2_CONCURRENCY.
// Its rate limiter is off, as the service's limits are raised out of the way. Listens on an
// ephemeral port of 127.0.0.1 and prints {"url": …} once it does; stops on SIGTERM.
import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import argon2 from "argon2";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import pg from "pg";

const hashOptions = {
  type: argon2.argon2id,
  memoryCost: Number(process.env.ARGON2_MEMORY_KIB ?? 19_456),
  timeCost: Number(process.env.ARGON2_TIME_COST ?? 2),
  parallelism: Number(process.env.ARGON2_PARALLELISM ?? 1),
};

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
/** @type {import("node:http").RequestListener} */
let handle = (_request, response) => response.writeHead(503).end();
const server = createServer((request, response) => handle(request, response));
await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
const url = `http://127.0.0.1:${port}`;

const options = {
  baseURL: url,
  secret: randomBytes(32).toString("base64url"),
  database: pool,
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (/** @type {string} */ password) => argon2.hash(password, hashOptions),
      verify: (/** @type {{ hash: string, password: string }} */ { hash, password }) => argon2.verify(hash, password),
    },
  },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
handle = toNodeHandler(betterAuth(options));
const { version } = JSON.parse(readFileSync(new URL("node_modules/better-auth/package.json", import.meta.url), "utf8"));
console.log(JSON.stringify({ url, version }));

process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.end().then(() => process.exit(0));
});

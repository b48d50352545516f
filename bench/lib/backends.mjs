// The back ends the bench gives the service: a PostgreSQL database and a Redis key prefix of
// its own (both removed afterwards), and an SMTP server that accepts and drops every email.
import { Redis } from "ioredis";
import postgres from "postgres";
import { SMTPServer } from "smtp-server";

/**
 * Creates `bench_<id>` on the server of `adminUrl`; `drop()` removes it (and any connection
 * the service left behind).
 * @param {string} adminUrl a database URL of a role that may CREATE DATABASE
 * @param {string} id
 */
export async function createDatabase(adminUrl, id) {
  const name = `bench_${id}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const [{ version }] = await admin`select current_setting('server_version') as version`;
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    version: `PostgreSQL ${version}`,
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/**
 * Checks Redis answers; `clean()` deletes every key under the bench's own prefix.
 * @param {string} url
 * @param {string} keyPrefix
 */
export async function openRedis(url, keyPrefix) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  const info = await redis.info("server");
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
  return {
    version: `Redis ${version}`,
    async clean() {
      let deleted = 0;
      for await (const keys of redis.scanStream({ match: `${keyPrefix}*`, count: 1000 })) {
        if (keys.length) deleted += await redis.del(...keys);
      }
      await redis.quit();
      return deleted;
    },
  };
}

/** An SMTP server on 127.0.0.1 that accepts every message and keeps none. */
export async function startSmtpSink() {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      stream.on("end", () => {
        received++;
        callback();
      });
      stream.resume();
    },
  });
  await new Promise((resolve, reject) => server.listen(0, "127.0.0.1", resolve).once("error", reject));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.server.address());
  return {
    url: `smtp://127.0.0.1:${port}`,
    get received() {
      return received;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

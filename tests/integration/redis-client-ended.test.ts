import { Redis } from "ioredis";
import type { ErrorEmitter } from "ioredis/built/connectors/AbstractConnector";
import type { NetStream } from "ioredis/built/types";
import { keepConnected } from "../../src/store/redis";
import { GuardedConnector } from "../../src/store/redis-connectors";
import { hasRedisServer, startRedisServer, type RedisServer } from "../helpers/redis-server";
import { freePort } from "../helpers/tcp-relay";
import { waitFor } from "../helpers/wait-for";

// A redis-server of the test's own (skipped without the binary).
const describeWithRedisServer = hasRedisServer ? describe : describe.skip;

/**
 * Rejects its first connect, as ioredis's SentinelConnector does when a failover announcement
 * lands while it asks a Sentinel for the master; then connects as usual.
 */
class RejectsFirstConnect extends GuardedConnector {
  private rejected = false;

  override async connect(emit: ErrorEmitter): Promise<NetStream> {
    if (this.rejected) return super.connect(emit);
    this.rejected = true;
    throw new Error("Connection is closed.");
  }
}

describeWithRedisServer("a Redis client whose connect was rejected", () => {
  let server: RedisServer;
  let port: number;
  const clients: Redis[] = [];
  const client = () => {
    const redis = new Redis({ port, host: "127.0.0.1", lazyConnect: true, Connector: RejectsFirstConnect, retryStrategy: () => 100 });
    redis.on("error", () => {});
    clients.push(redis);
    return redis;
  };

  beforeAll(async () => {
    port = await freePort();
    server = await startRedisServer(port);
  });
  afterAll(async () => {
    clients.forEach((redis) => redis.disconnect());
    await server.kill();
  });

  test("is given up by ioredis, whatever its retry strategy", async () => {
    const redis = client();
    await expect(redis.connect()).rejects.toThrow("Connection is closed.");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(redis.status).toBe("end");
  });

  test("is started again by keepConnected, and left ended once closed", async () => {
    const redis = client();
    let closed = false;
    keepConnected(redis, () => closed);
    await expect(redis.connect()).rejects.toThrow("Connection is closed.");
    await waitFor(async () => expect(await redis.ping()).toBe("PONG"), 5_000);

    closed = true;
    await redis.quit();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(redis.status).toBe("end");
  });
});

import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { hasOpenssl, makeTestCertificates, type TestCertificates } from "../helpers/certificates";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";

// A TLS server the service was given no authority for, in each Redis mode. Its first flight
// of handshake bytes is followed by bytes that do not decode, as a real Redis's alert or
// session ticket can be: Node then reports two errors on the one socket (the certificate,
// then the record), which once crashed the service (see src/store/redis-connectors.ts).
// Needs openssl for the certificate, no Redis.
const describeWithOpenssl = hasOpenssl ? describe : describe.skip;

/** An application-data record of 32 bytes that no key decrypts. */
const UNDECODABLE = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(32, 7)]);

interface UntrustedServer {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

async function startUntrustedServer(certificates: TestCertificates): Promise<UntrustedServer> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const tlsServer = tls.createServer({ key: readFileSync(certificates.keyFile), cert: readFileSync(certificates.certFile) }, track);
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  let accepted = 0;
  // In front of it, a relay that appends the undecodable record to the server's first flight.
  const relay = net.createServer((client) => {
    accepted++;
    const server = net.connect((tlsServer.address() as net.AddressInfo).port, "127.0.0.1");
    track(client);
    track(server);
    let first = true;
    client.on("data", (data) => server.write(data));
    server.on("data", (data) => {
      client.write(first ? Buffer.concat([data, UNDECODABLE]) : data);
      first = false;
    });
    client.on("close", () => server.destroy());
    server.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    connections: () => accepted,
    async close() {
      const closed = Promise.all([relay, tlsServer].map((server) => new Promise((resolve) => server.close(resolve))));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describeWithOpenssl("a Redis whose certificate the service does not trust", () => {
  let certificates: TestCertificates;
  let server: UntrustedServer;
  let app: TestApp | undefined;

  beforeAll(async () => {
    certificates = makeTestCertificates();
    server = await startUntrustedServer(certificates);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await server?.close();
    certificates?.remove();
    // ioredis 6.0.0 leaves its failover detector's 2 s timer behind (see redis-sentinel.test.ts).
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  /** Several refused handshakes later the service is still up, and not ready. */
  const survivesRefusals = async (env: Record<string, string>) => {
    const before = server.connections();
    app = await startTestApp(env);
    await waitFor(async () => expect(server.connections() - before).toBeGreaterThanOrEqual(3), 10_000);
    const readiness = await fetch(`${app.url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ checks: { redis: "unavailable" } });
  };

  test("one Redis: rediss:// to it leaves the service unready, not crashed", async () => {
    await survivesRefusals({ REDIS_URL: `rediss://127.0.0.1:${server.port}/0` });
  });

  test("a Sentinel: the clients that ask it for the master refuse it the same way", async () => {
    await survivesRefusals({ REDIS_URL: "rediss://auth-primary/0", REDIS_SENTINELS: `127.0.0.1:${server.port}` });
  });

  test("a Cluster node: its connection refuses it the same way", async () => {
    await survivesRefusals({ REDIS_URL: `rediss://127.0.0.1:${server.port}`, REDIS_CLUSTER: "true" });
  });
});

import net from "node:net";

export interface TcpRelay {
  port: number;
  /** Refuses new connections and cuts the open ones, as a server that went away would. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** Holds every byte, both ways, on open and new connections: a server that hangs rather than refuses. */
  freeze(): void;
  /** Delivers what was held and relays again. */
  thaw(): void;
  /**
   * Drops every byte, both ways, of the connections open now, for good, and relays new ones: a
   * firewall that forgot the flows, or a failover that moved the server's address.
   */
  strand(): void;
  /**
   * Chunks the clients have sent the server so far. A client that waits for an answer before
   * it writes again sends one chunk per round trip.
   */
  readonly chunksToServer: number;
}

/**
 * A TCP relay in front of a real server (PostgreSQL, Redis) that a test can take down and
 * bring back on the same port, or freeze, to watch the service fail fast and then recover by itself.
 */
export async function startTcpRelay(target: { host: string; port: number }, options: { listening?: boolean } = {}): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  const stranded = new WeakSet<net.Socket>();
  let held: Array<() => void> | null = null;
  let chunksToServer = 0;
  const deliver = (send: () => void) => (held ? held.push(send) : send());
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on("data", (chunk) => stranded.has(from) || deliver(() => to.write(chunk)));
    from.on("end", () => stranded.has(from) || deliver(() => to.end()));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => {
        sockets.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
      socket.on("error", () => (socket === client ? upstream : client).destroy());
    }
    client.on("data", () => chunksToServer++);
    relay(client, upstream);
    relay(upstream, client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const stop = async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  if (options.listening === false) await stop();

  return {
    port,
    stop,
    restart: () => listen(port),
    freeze: () => {
      held ??= [];
    },
    thaw: () => {
      const writes = held ?? [];
      held = null;
      for (const write of writes) write();
    },
    strand: () => {
      for (const socket of sockets) stranded.add(socket);
    },
    get chunksToServer() {
      return chunksToServer;
    },
  };
}

/** A relay in front of the PostgreSQL server `url` names, and that URL through the relay. */
export async function relayPostgres(url: string, options: { listening?: boolean } = {}): Promise<{ relay: TcpRelay; url: string }> {
  const server = new URL(url);
  const relay = await startTcpRelay({ host: server.hostname, port: Number(server.port || 5432) }, options);
  const through = new URL(url);
  through.host = `127.0.0.1:${relay.port}`;
  return { relay, url: through.toString() };
}

/** A port nothing listens on right now (another process could still take it: use it at once). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

import type { Redis } from "ioredis";
import { SentinelConnector, type SentinelConnectionOptions, type StandaloneConnectionOptions } from "ioredis";
import type { ErrorEmitter } from "ioredis/built/connectors/AbstractConnector";
// Not exported by the package's index; ioredis is pinned (package.json), so its path holds.
import StandaloneConnector from "ioredis/built/connectors/StandaloneConnector";
import type { NetStream } from "ioredis/built/types";

/*
 * A TLS socket whose server certificate fails verification can emit 'error' twice: Node
 * destroys it with the verification error, then still decodes what the server had already
 * sent (an alert, a session ticket) and fails again. ioredis listens to its sockets' errors
 * with once() (its PR #961, closed unmerged), so the second error was uncaught and ended the
 * process: a Redis whose certificate the service does not trust crashed it now and then
 * instead of leaving it unready. Every socket ioredis opens here, to Redis, to a Sentinel or
 * to a Cluster node, gets a listener for its whole life; ioredis still gets the first error.
 */
const ignoreLaterErrors = (stream: NetStream) => stream.on("error", () => {});

/** One Redis, or one node of a Cluster (ClusterOptions.redisOptions.Connector). */
export class GuardedConnector extends StandaloneConnector {
  // ioredis types a Connector's options as unknown: it passes its own, whatever the mode.
  constructor(options: unknown) {
    super(options as StandaloneConnectionOptions);
  }

  override async connect(emit: ErrorEmitter): Promise<NetStream> {
    return ignoreLaterErrors(await super.connect(emit));
  }
}

/**
 * The master a Sentinel names, and the clients that ask the Sentinels for it and watch them.
 * Given as a Connector, it does not get the client as its `emitter`, which only emits events
 * ioredis's own tests listen for (sentinelReconnecting, failoverSubscribed).
 */
export class GuardedSentinelConnector extends SentinelConnector {
  constructor(options: unknown) {
    super(options as SentinelConnectionOptions);
  }

  override async connect(emit: ErrorEmitter): Promise<NetStream> {
    return ignoreLaterErrors(await super.connect(emit));
  }
}

// The clients that talk to the Sentinels are made by a private method; its options are
// spread last into theirs, so a Connector given there is the one they use.
type SentinelClients = { connectToSentinel(endpoint: unknown, options?: object): Redis };
const connectToSentinel = (SentinelConnector.prototype as unknown as SentinelClients).connectToSentinel;
(GuardedSentinelConnector.prototype as unknown as SentinelClients).connectToSentinel = function (this: SentinelConnector, endpoint, options) {
  return connectToSentinel.call(this, endpoint, { ...options, Connector: GuardedConnector });
};

import type { Logger } from "../logger";
import type { Sessions } from "./sessions";
import type { Users } from "./users";
import { settledWithin } from "../settle";

/** Every refresh adds a row: an hourly run keeps what waits for deletion to an hour's worth. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** The first run waits out the start (migrations, the first requests), then catches up on the downtime. */
const FIRST_PURGE_DELAY_MS = 60 * 1000;

export interface SessionPurge {
  /**
   * Cancels the next run and ends one under way after its current batch; resolves once it has,
   * or after `timeoutMs` (a batch waiting on a database that hangs must not hold the shutdown).
   */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Deletes ended and expired sessions (Sessions.purgeEnded), then the address changes whose
 * revert link expired (Users.purgeExpiredEmailChanges) and the devices accounts were not signed
 * in from for KNOWN_DEVICE_DAYS (Sessions.purgeForgottenDevices), shortly after the start and then
 * every hour. Each run is scheduled when the previous one ends, so runs never overlap; a failed
 * one is logged and the next tries again. Every instance runs it: the deletes are idempotent.
 */
export function scheduleSessionPurge(deps: {
  sessions: Pick<Sessions, "purgeEnded">;
  /** Address changes whose revert link expired: they keep the address left, and serve nothing more. */
  emailChanges?: Pick<Users, "purgeExpiredEmailChanges">;
  /** Devices not signed in from for KNOWN_DEVICE_DAYS: a sign-in from one is notified again. */
  knownDevices?: Pick<Sessions, "purgeForgottenDevices">;
  logger: Logger;
  /** False while the database's migrations are pending (it may be down): the run is skipped, not failed. */
  isReady?: () => boolean;
  firstDelayMs?: number;
  intervalMs?: number;
}): SessionPurge {
  const { sessions, logger, firstDelayMs = FIRST_PURGE_DELAY_MS, intervalMs = PURGE_INTERVAL_MS } = deps;
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  /** One kind of row: a failure is logged and leaves the other kinds to their run. */
  async function purgeRows(what: string, run: () => Promise<number>): Promise<void> {
    try {
      const deleted = await run();
      if (deleted > 0) logger.info({ deleted }, `${what} purged`);
    } catch (error) {
      logger.error({ err: error }, `${what} could not be purged; the next run tries again`);
    }
  }

  async function purge(): Promise<void> {
    if (deps.isReady && !deps.isReady()) return;
    await purgeRows("ended and expired sessions", () => sessions.purgeEnded({ signal: stopping.signal }));
    const { emailChanges } = deps;
    if (emailChanges && !stopping.signal.aborted) await purgeRows("address changes past their revert link", () => emailChanges.purgeExpiredEmailChanges());
    const { knownDevices } = deps;
    if (knownDevices && !stopping.signal.aborted) await purgeRows("devices not signed in from lately", () => knownDevices.purgeForgottenDevices());
  }

  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      running = purge().then(() => {
        if (!stopping.signal.aborted) schedule(intervalMs);
      });
    }, delayMs);
    // A pending run must not keep the process alive on its own.
    timer.unref();
  };
  schedule(firstDelayMs);

  return {
    async stop(timeoutMs = Infinity) {
      stopping.abort();
      clearTimeout(timer);
      await settledWithin(running, timeoutMs);
    },
  };
}

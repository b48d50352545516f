import type { Logger } from "./logger";
import { settledWithin } from "./settle";

/**
 * Work a request starts and does not wait for: a reset token and its email, a verification
 * email. A request that ends before its work does must not lose it to a shutdown, so the app
 * waits for this work (within SHUTDOWN_TIMEOUT) after the last request and before the
 * database, the token store and SMTP close.
 */
export interface BackgroundWork {
  /** Runs `task` without a caller to report to: its failure goes to `onError`. */
  run(task: () => Promise<unknown>, onError: (error: unknown) => void): void;
  /** Resolves once every task started so far has settled, or at `timeoutMs`, whichever is first. */
  settle(timeoutMs: number): Promise<void>;
}

export function createBackgroundWork(logger: Logger): BackgroundWork {
  const pending = new Set<Promise<void>>();

  return {
    run(task, onError) {
      // Started once the event loop has written what is ready, the request's answer among them:
      // as a microtask it ran first, and an answer that had work to start (a reset for an address
      // with an account) left later than one that had none (an unknown address).
      const running = new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .then(
          () => {},
          (error: unknown) => {
            // Nothing awaits this promise: a throwing onError would be an unhandled rejection.
            try {
              onError(error);
            } catch (reportError) {
              logger.error({ err: reportError }, "background work failed, and so did reporting it");
            }
          },
        )
        .finally(() => pending.delete(running));
      pending.add(running);
    },

    async settle(timeoutMs) {
      if (pending.size === 0) return;
      if (!(await settledWithin(Promise.allSettled([...pending]), timeoutMs))) logger.warn({ unfinished: pending.size, timeoutMs }, "background work still running at the shutdown timeout; closing without it");
    },
  };
}

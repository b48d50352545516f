/**
 * Waits for `promise` to settle, fulfilled or rejected, for at most `timeoutMs` (no limit when
 * it is not finite): whether it settled in time. Never rejects; the timer never outlives it.
 */
export async function settledWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  if (!Number.isFinite(timeoutMs)) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
  return Promise.race([settled, timedOut]).finally(() => clearTimeout(timer));
}

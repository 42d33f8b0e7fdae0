import { DatatureWaitError } from './errors';
import { sleep } from './retry-policy';

export interface WaitOptions {
  /** Time between polls. */
  intervalMs?: number;
  /** Give up (DatatureWaitError) after this long; default: wait forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Calls `poll` until it returns a value, sleeping `intervalMs` between calls. */
export async function pollUntil<T>(
  what: string,
  poll: () => Promise<T | undefined>,
  { intervalMs, timeoutMs, signal }: WaitOptions & { intervalMs: number },
): Promise<T> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const done = await poll();
    if (done !== undefined) return done;
    const left = deadline - Date.now();
    if (left <= 0) throw new DatatureWaitError(`${what} not done after ${timeoutMs} ms`);
    await sleep(Math.min(intervalMs, left), signal);
  }
}

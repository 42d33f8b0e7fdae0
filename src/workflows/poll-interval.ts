// How long to sleep before the next look at a running job. Pure: the workflow calls it with its own clock.

export interface PollBounds {
  minIntervalMs: number;
  maxIntervalMs: number;
}

/** A fifth of the time already waited: a job that ran long is expected to run long, so polls thin out. */
const ELAPSED_FRACTION = 0.2;
/** Sleep at most half the estimated time left, so the end is seen soon after it happens. */
const REMAINING_FRACTION = 0.5;

/**
 * `elapsedMs` is the time since the job started running (after its startAtTime). The estimate of the time
 * left comes from the rate at which items got accounted for so far; with no progress yet there is none.
 */
export function nextPollDelayMs(params: {
  elapsedMs: number;
  accounted: number;
  itemCount: number;
  bounds: PollBounds;
}): number {
  const { elapsedMs, accounted, itemCount, bounds } = params;
  let delay = elapsedMs * ELAPSED_FRACTION;
  if (accounted > 0 && elapsedMs > 0 && itemCount > accounted) {
    const remainingMs = ((itemCount - accounted) * elapsedMs) / accounted;
    delay = Math.min(delay, remainingMs * REMAINING_FRACTION);
  }
  return Math.round(Math.min(bounds.maxIntervalMs, Math.max(bounds.minIntervalMs, delay)));
}

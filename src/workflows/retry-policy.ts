// The retry policy of the pipeline's activities, and the delay it gives after a failed attempt. One place:
// the workflow configures its activities with it, and an activity told to wait (Retry-After) uses the
// delay as the floor under the server's hint, so a short Retry-After never replaces the backoff.

export const RETRY_INITIAL_MS = 1_000;
export const RETRY_BACKOFF = 2;
export const RETRY_MAX_MS = 60_000;

export const ACTIVITY_RETRY = {
  initialInterval: RETRY_INITIAL_MS,
  backoffCoefficient: RETRY_BACKOFF,
  maximumInterval: RETRY_MAX_MS,
} as const;

/** The delay the policy puts after failed attempt number `attempt` (1-based). */
export function backoffDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * RETRY_BACKOFF ** Math.max(0, attempt - 1));
}

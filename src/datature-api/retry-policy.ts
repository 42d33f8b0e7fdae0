// When and how long to wait before retrying, in the style of openai-node / stripe-node.
import { DatatureConnectionError, isRetryable, RateLimitError, ServerError } from './errors';

const BASE_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;

/** Connection failures where the request provably never reached the server: safe to retry even a POST. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Idempotent requests (GET/PUT/DELETE and PATCHes that set absolute values) retry on every retryable error.
 * A POST creates something: it is retried only when the server cannot have processed it (the connection
 * was never established, or a 429 that by definition refused the request).
 */
export function shouldRetry(err: unknown, idempotent: boolean): boolean {
  if (!isRetryable(err)) return false;
  if (idempotent) return true;
  if (err instanceof RateLimitError) return true;
  return err instanceof DatatureConnectionError && NOT_SENT_CODES.has(err.code ?? '');
}

/** The server's Retry-After when it gave one (capped at 60 s), else exponential backoff with jitter. */
export function retryDelayMs(err: unknown, retryIndex: number): number {
  const serverDelay = err instanceof RateLimitError || err instanceof ServerError ? err.retryAfterMs : undefined;
  if (serverDelay !== undefined) return Math.min(serverDelay, MAX_RETRY_AFTER_MS);
  const backoff = Math.min(BASE_DELAY_MS * 2 ** retryIndex, MAX_BACKOFF_MS);
  // Up to 25% less, so many clients throttled together do not come back in lock-step.
  return backoff * (1 - Math.random() * 0.25);
}

/** `retry-after-ms` (float ms), else `retry-after` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: Record<string, string | string[] | undefined>, now = Date.now()) {
  const ms = Number(first(headers['retry-after-ms']));
  if (Number.isFinite(ms) && ms >= 0 && first(headers['retry-after-ms']) !== undefined) return ms;
  const value = first(headers['retry-after']);
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

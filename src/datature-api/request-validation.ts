// Client-side checks run before any request, each naming the offending field. The limits mirror the
// official CLI's prompts (names <= 120 chars, retries 0-5, delay 0-60 s, start not in the past).
import { DatatureValidationError } from './errors';

export const MAX_NAME_LENGTH = 120;
const MAX_WEBHOOK_RETRIES = 5;
const MAX_WEBHOOK_RETRY_DELAY_MS = 60_000;
/** How far in the past a start time may be, for clocks slightly behind and slow prompts. */
const START_TIME_GRACE_MS = 60_000;

export function checkName(field: string, name: unknown): void {
  if (typeof name !== 'string' || name.trim() === '')
    throw new DatatureValidationError(field, 'must be a non-empty string');
  if (name.length > MAX_NAME_LENGTH) {
    throw new DatatureValidationError(field, `must be at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
  }
}

export function checkId(field: string, id: unknown): void {
  if (typeof id !== 'string' || id.trim() === '') throw new DatatureValidationError(field, 'must be a non-empty id');
}

export function checkHttpUrl(field: string, url: unknown): void {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new DatatureValidationError(field, `must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
}

export function checkIntInRange(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DatatureValidationError(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

export function checkWebhookRetries(field: string, retries: { maxRetries?: number; maxRetryDelay?: number }) {
  if (retries.maxRetries !== undefined) {
    checkIntInRange(`${field}.maxRetries`, retries.maxRetries, 0, MAX_WEBHOOK_RETRIES);
  }
  if (retries.maxRetryDelay !== undefined) {
    checkIntInRange(`${field}.maxRetryDelay`, retries.maxRetryDelay, 0, MAX_WEBHOOK_RETRY_DELAY_MS);
  }
}

export function checkSchedule(startAtTime: number | undefined, stopAtTime: number | undefined, now = Date.now()) {
  for (const [field, value] of [
    ['startAtTime', startAtTime],
    ['stopAtTime', stopAtTime],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new DatatureValidationError(field, `must be a time in epoch milliseconds, got ${JSON.stringify(value)}`);
    }
  }
  if (startAtTime !== undefined && startAtTime < now - START_TIME_GRACE_MS) {
    throw new DatatureValidationError('startAtTime', `is in the past (${new Date(startAtTime).toISOString()})`);
  }
  const start = startAtTime ?? now;
  if (stopAtTime !== undefined && stopAtTime <= start) {
    throw new DatatureValidationError('stopAtTime', `must be after the start (${new Date(start).toISOString()})`);
  }
}

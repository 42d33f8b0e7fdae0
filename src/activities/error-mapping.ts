// Nexus errors -> Temporal failures: the API's 4xx answers will not change on retry (non-retryable, typed by
// error class), 429/5xx/network problems will (retryable, honouring Retry-After).
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  NdjsonValidationError,
  NexusApiError,
  NexusConnectionError,
  NexusError,
  NexusTimeoutError,
  RateLimitError,
  ServerError,
} from '../nexus';

export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof NdjsonValidationError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.name,
      nonRetryable: true,
      details: [{ errors: err.errors, totalErrors: err.totalErrors }],
    });
  }
  if (err instanceof RateLimitError || err instanceof ServerError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.name,
      nonRetryable: false,
      nextRetryDelay: err.retryAfterMs,
    });
  }
  if (err instanceof NexusConnectionError || err instanceof NexusTimeoutError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: false });
  }
  if (err instanceof NexusApiError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: !err.retryable });
  }
  if (err instanceof NexusError) {
    return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true });
  }
  return err;
}

/** Runs an API call, mapping its errors. */
export async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

// Nexus errors -> Temporal failures typed from the one catalogue (src/workflows/failures.ts). The API's 4xx
// answers will not change on retry (non-retryable), 429/5xx/network problems will (retryable, waiting at
// least what the server's Retry-After asks and never less than the policy's own backoff).
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  DatatureApiError,
  DatatureConnectionError,
  DatatureError,
  DatatureTimeoutError,
  DatatureValidationError,
  NdjsonValidationError,
  RateLimitError,
  ServerError,
} from '../datature-api';
import { FailureType } from '../workflows/failures';
import { backoffDelayMs } from '../workflows/retry-policy';

function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // outside an activity (a direct call in a test)
  }
}

function unavailable(err: DatatureError, retryAfterMs?: number): ApplicationFailure {
  return ApplicationFailure.create({
    message: err.message,
    type: FailureType.ApiUnavailable,
    nonRetryable: false,
    nextRetryDelay: retryAfterMs === undefined ? undefined : Math.max(retryAfterMs, backoffDelayMs(currentAttempt())),
  });
}

function apiAnswer(err: DatatureApiError): ApplicationFailure {
  const type =
    err.status === 401 || err.status === 403
      ? FailureType.ApiUnauthorized
      : err.status === 404
        ? FailureType.ApiNotFound
        : FailureType.ApiRejected;
  return ApplicationFailure.create({
    message: `the Datature API answered ${err.status}: ${err.message}`,
    type,
    nonRetryable: !err.retryable,
    details: [{ status: err.status, requestId: err.requestId }],
  });
}

export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof NdjsonValidationError) {
    return ApplicationFailure.create({
      message: err.message,
      type: FailureType.InvalidNdjson,
      nonRetryable: true,
      details: [{ errors: err.errors, totalErrors: err.totalErrors }],
    });
  }
  if (err instanceof DatatureValidationError) {
    return ApplicationFailure.create({ message: err.message, type: FailureType.InvalidInput, nonRetryable: true });
  }
  if (err instanceof RateLimitError || err instanceof ServerError) return unavailable(err, err.retryAfterMs);
  if (err instanceof DatatureConnectionError || err instanceof DatatureTimeoutError) return unavailable(err);
  if (err instanceof DatatureApiError) return apiAnswer(err);
  if (err instanceof DatatureError) {
    return ApplicationFailure.create({ message: err.message, type: FailureType.ApiRejected, nonRetryable: true });
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

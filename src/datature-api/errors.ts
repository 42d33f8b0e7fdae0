// The error hierarchy of docs/architecture.md. Messages come from the server's `{"message"}` body or
// from client-side checks; the transport scrubs the secret key out of every message before it gets here.

export class DatatureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request argument failed client-side validation; nothing was sent. */
export class DatatureValidationError extends DatatureError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export interface NdjsonLineError {
  line: number;
  message: string;
}

/** The dataset file is not valid NDJSON of `{"kind":"Image","url":...}` items; nothing was sent. */
export class NdjsonValidationError extends DatatureError {
  static readonly MAX_REPORTED = 100;

  constructor(
    readonly errors: NdjsonLineError[],
    readonly totalErrors: number = errors.length,
  ) {
    super(NdjsonValidationError.describe(errors, totalErrors));
  }

  private static describe(errors: NdjsonLineError[], total: number): string {
    const lines = errors.map((e) => (e.line > 0 ? `line ${e.line}: ${e.message}` : e.message));
    if (total > errors.length) lines.push(`...and ${total - errors.length} more`);
    return `invalid NDJSON dataset (${total} error${total === 1 ? '' : 's'}):\n${lines.join('\n')}`;
  }
}

/** The API answered with a non-2xx status. */
export class DatatureApiError extends DatatureError {
  readonly retryable: boolean;

  constructor(
    readonly status: number,
    message: string,
    readonly requestId: string | undefined,
    retryable?: boolean,
  ) {
    super(message);
    this.retryable = retryable ?? (status === 429 || status >= 500);
  }

  static from(status: number, message: string, requestId: string | undefined, retryAfterMs: number | undefined) {
    switch (status) {
      case 400:
        return new BadRequestError(status, message, requestId);
      case 401:
        return new AuthenticationError(status, message, requestId);
      case 403:
        return new PermissionDeniedError(status, message, requestId);
      case 404:
        return new NotFoundError(status, message, requestId);
      case 409:
        return new ConflictError(status, message, requestId);
      case 422:
        return new UnprocessableEntityError(status, message, requestId);
      case 429:
        return new RateLimitError(status, message, requestId, retryAfterMs);
    }
    if (status >= 500) return new ServerError(status, message, requestId, retryAfterMs);
    return new DatatureApiError(status, message, requestId);
  }
}

export class BadRequestError extends DatatureApiError {}
export class AuthenticationError extends DatatureApiError {}
export class PermissionDeniedError extends DatatureApiError {}
export class NotFoundError extends DatatureApiError {}
export class ConflictError extends DatatureApiError {}
export class UnprocessableEntityError extends DatatureApiError {}

export class RateLimitError extends DatatureApiError {
  constructor(
    status: number,
    message: string,
    requestId: string | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(status, message, requestId, true);
  }
}

export class ServerError extends DatatureApiError {
  constructor(
    status: number,
    message: string,
    requestId: string | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(status, message, requestId, true);
  }
}

/** The request never got an HTTP answer (refused, reset, DNS...). */
export class DatatureConnectionError extends DatatureError {
  readonly retryable = true;

  constructor(
    message: string,
    /** The socket error code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...), when known. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No complete answer within the timeout. */
export class DatatureTimeoutError extends DatatureError {
  readonly retryable = true;
}

/** A 2xx answer whose body is not the documented shape. */
export class DatatureResponseError extends DatatureError {}

/** A dataset or job reached a failure state while being waited for, or the wait timed out. */
export class DatatureWaitError extends DatatureError {}

export function isRetryable(err: unknown): boolean {
  if (err instanceof DatatureApiError) return err.retryable;
  return err instanceof DatatureConnectionError || err instanceof DatatureTimeoutError;
}

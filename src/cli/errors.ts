import { CodecKeyError } from '../codec/codec-keys';
import { DatatureValidationError, NdjsonValidationError } from '../datature-api/errors';

/** Exit codes of every command: the contract scripts rely on. */
export const ExitCode = {
  ok: 0,
  failedRun: 1,
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A wrong flag, a missing argument or missing configuration: the user must change the command line (exit 2). */
export class UsageError extends Error {
  readonly exitCode = ExitCode.usage;
}

/** The command ran but what it watched failed, was cancelled or timed out (exit 1). */
export class RunFailedError extends Error {
  readonly exitCode = ExitCode.failedRun;

  /** `type`: the run's failure type from the catalogue (src/workflows/failures.ts), or `Canceled`. */
  constructor(
    message: string,
    readonly type?: string,
  ) {
    super(message);
    this.name = 'RunFailedError';
  }
}

/**
 * Bad arguments, a bad input file (caught before any request by the client's own checks) or a bad codec key
 * file (DATATURE_BATCH_CODEC_KEYS) are usage errors.
 */
export function exitCodeOf(err: unknown): ExitCode {
  if (
    err instanceof UsageError ||
    err instanceof DatatureValidationError ||
    err instanceof NdjsonValidationError ||
    err instanceof CodecKeyError
  ) {
    return ExitCode.usage;
  }
  return ExitCode.failedRun;
}

// Opens the workflow's dataset source as fresh byte streams the Nexus client can read once per pass.
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import { itemRangeOf, redactSignedUrl, sourceOpener } from '../datature-api';
import type { DatasetSourceInput } from '../workflows/definitions';
import { FailureType } from '../workflows/failures';

export type ByteSource = Exclude<DatasetSourceInput, { datasetId: string }>;

/** File errors that another attempt will meet again. */
const PERMANENT_FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG']);

class SourceStatusError extends Error {
  constructor(
    url: string,
    readonly statusCode: number,
  ) {
    super(`GET ${redactSignedUrl(url)} answered ${statusCode}`);
  }
}

function locationOf(source: ByteSource): string {
  const range = source.itemRange ? ` (items ${source.itemRange.start} to ${source.itemRange.end - 1})` : '';
  if ('ndjsonPath' in source) return source.ndjsonPath + range;
  if ('ndjsonUrl' in source) return redactSignedUrl(source.ndjsonUrl) + range;
  return `inline items${range}`;
}

/**
 * A source that cannot be read fails the activity at once when retrying cannot help (a missing file, a 404);
 * a 5xx, 408, 429 or network error stays retryable. Any other error is returned unchanged.
 */
export function sourceReadFailure(source: ByteSource, err: unknown): unknown {
  const reason = `cannot read dataset source ${locationOf(source)}`;
  const code = errorCodeOf(err) ?? errorCodeOf((err as { cause?: unknown } | undefined)?.cause);
  if (code !== undefined && PERMANENT_FILE_ERRORS.has(code)) {
    return ApplicationFailure.nonRetryable(`${reason}: ${code}`, FailureType.SourceUnreadable);
  }
  if (err instanceof SourceStatusError) {
    const { statusCode } = err;
    const retryable = statusCode >= 500 || statusCode === 408 || statusCode === 429;
    return ApplicationFailure.create({
      message: `${reason}: HTTP ${statusCode}`,
      type: FailureType.SourceUnreadable,
      nonRetryable: !retryable,
    });
  }
  return err;
}

function errorCodeOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The source's bytes, only its `itemRange`'s lines when it names one (a shard's items). */
function openItems(source: ByteSource, signal: AbortSignal): Readable {
  const whole = openRaw(source, signal);
  return source.itemRange ? itemRangeOf(whole, source.itemRange) : whole;
}

function openRaw(source: ByteSource, signal: AbortSignal): Readable {
  if ('ndjsonPath' in source) return sourceOpener(source.ndjsonPath, signal)();
  if ('items' in source) return sourceOpener(source.items)();
  const out = new PassThrough();
  request(source.ndjsonUrl, { signal }).then(
    (response) => {
      if (response.statusCode !== 200) {
        response.body.dump().catch(() => {});
        out.destroy(new SourceStatusError(source.ndjsonUrl, response.statusCode));
        return;
      }
      pipeline(response.body, out, () => {});
    },
    (err: Error) => out.destroy(err),
  );
  return out;
}

/** A function opening the source (its `itemRange` only, when it names one) from its start on each call. */
export function byteSourceOpener(source: ByteSource, signal: AbortSignal): () => Readable {
  return () => openItems(source, signal);
}

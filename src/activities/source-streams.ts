// Opens the workflow's dataset source as fresh byte streams the Nexus client can read once per pass.
import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import { type ByteRange, itemRangeOf, redactSignedUrl, sourceOpener } from '../datature-api';
import type { DatasetSourceInput } from '../workflows/definitions';
import { FailureType } from '../workflows/failures';

export type ByteSource = Exclude<DatasetSourceInput, { datasetId: string }>;

/** File errors that another attempt will meet again. */
const PERMANENT_FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG']);

class SourceStatusError extends Error {
  constructor(
    url: string,
    readonly statusCode: number,
    /** What was wrong with an answer whose status alone is fine. */
    readonly why?: string,
  ) {
    super(`GET ${redactSignedUrl(url)} answered ${statusCode}${why ? ` ${why}` : ''}`);
  }
}

/** The source as messages name it (a signed URL's query redacted), with a shard's item range. */
export function sourceLocation(source: ByteSource): string {
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
  const reason = `cannot read dataset source ${sourceLocation(source)}`;
  const code = errorCodeOf(err) ?? errorCodeOf((err as { cause?: unknown } | undefined)?.cause);
  if (code !== undefined && PERMANENT_FILE_ERRORS.has(code)) {
    return ApplicationFailure.nonRetryable(`${reason}: ${code}`, FailureType.SourceUnreadable);
  }
  if (err instanceof SourceStatusError) {
    const { statusCode } = err;
    const retryable = statusCode >= 500 || statusCode === 408 || statusCode === 429;
    return ApplicationFailure.create({
      message: `${reason}: HTTP ${statusCode}${err.why ? ` ${err.why}` : ''}`,
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

/**
 * The source's bytes, only its `itemRange`'s lines when it names one (a shard's items). A range with its byte
 * offsets reads only those bytes; the line cut still applies to them, so a shard sees exactly its lines.
 */
function openItems(source: ByteSource, signal: AbortSignal): Readable {
  const range = source.itemRange;
  if (!range) return openRaw(source, signal);
  if (range.byteStart === undefined) return itemRangeOf(openRaw(source, signal), range);
  const bytes = openRaw(source, signal, { start: range.byteStart, end: range.byteEnd });
  return itemRangeOf(bytes, { start: 0, end: range.end - range.start });
}

function openRaw(source: ByteSource, signal: AbortSignal, bytes?: ByteRange): Readable {
  if ('ndjsonPath' in source) return sourceOpener(source.ndjsonPath, signal, bytes)();
  if ('items' in source) return sourceOpener(source.items, undefined, bytes)();
  const out = new PassThrough();
  const headers = bytes ? { range: `bytes=${bytes.start}-${bytes.end === undefined ? '' : bytes.end - 1}` } : {};
  request(source.ndjsonUrl, { signal, headers }).then(
    (response) => {
      // 206: the server sent the range asked for; 200: it sends the whole file, cut here.
      const ok = response.statusCode === 200 || (bytes !== undefined && response.statusCode === 206);
      if (!ok) {
        response.body.dump().catch(() => {});
        out.destroy(new SourceStatusError(source.ndjsonUrl, response.statusCode));
        return;
      }
      // A 206 for another range than asked (a proxy's own answer, a server capping its length), or not saying
      // which, is refused: its bytes may not be the shard's.
      const why =
        response.statusCode === 206 && bytes ? otherRange(response.headers['content-range'], bytes) : undefined;
      if (why) {
        response.body.dump().catch(() => {});
        out.destroy(new SourceStatusError(source.ndjsonUrl, 206, why));
        return;
      }
      const body = bytes && response.statusCode === 200 ? cutTo(response.body, bytes) : response.body;
      pipeline(body, out, () => {});
    },
    (err: Error) => out.destroy(err),
  );
  return out;
}

/**
 * How a 206's `Content-Range: bytes a-b/size` differs from the range asked for (the last shard's, open-ended, ends
 * at the file's end when the size is given), or undefined when it is that range.
 */
function otherRange(header: string | string[] | undefined, asked: ByteRange): string | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(Array.isArray(header) ? header[0] : (header ?? ''));
  if (!match) return 'without a Content-Range';
  const [start, last] = [Number(match[1]), Number(match[2])];
  const askedLast = asked.end !== undefined ? asked.end - 1 : match[3] === '*' ? last : Number(match[3]) - 1;
  if (start === asked.start && last === askedLast) return undefined;
  return `for bytes ${start}-${last}, not ${asked.start}-${askedLast}`;
}

/** `range`'s bytes of a server's whole file (it ignored the Range asked for): the rest is read and dropped. */
function cutTo(whole: Readable, range: ByteRange): Readable {
  const end = range.end ?? Number.POSITIVE_INFINITY;
  let offset = 0;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const from = Math.max(0, range.start - offset);
      const to = Math.min(chunk.length, end - offset);
      offset += chunk.length;
      callback(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
  pipeline(whole, cut, () => {});
  return cut;
}

/** A function opening the source (its `itemRange` only, when it names one) from its start on each call. */
export function byteSourceOpener(source: ByteSource, signal: AbortSignal): () => Readable {
  return () => openItems(source, signal);
}

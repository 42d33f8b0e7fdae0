// The three ways to give a dataset's items, reduced to one thing: a function opening a fresh byte stream.
import { createReadStream } from 'node:fs';
import { pipeline, Readable, Transform } from 'node:stream';
import type { DatasetItem } from './models';

/** A path to an NDJSON file, a function returning a new stream of its bytes, or items held in memory. */
export type DatasetSourceInput = string | (() => Readable) | readonly DatasetItem[];
/** What `validateNdjson` reads: a dataset source or the NDJSON bytes themselves. */
export type NdjsonSource = DatasetSourceInput | Uint8Array;

const FILE_CHUNK_BYTES = 256 * 1024;

/**
 * Each call opens the source from its start: one call per pass (validation, then each upload attempt).
 * `signal` aborts a file read (a stream given as a function handles its own cancellation).
 */
export function sourceOpener(source: NdjsonSource, signal?: AbortSignal): () => Readable {
  if (typeof source === 'string') return () => createReadStream(source, { highWaterMark: FILE_CHUNK_BYTES, signal });
  if (typeof source === 'function') return source;
  const bytes = source instanceof Uint8Array ? source : itemsToNdjson(source);
  return () => Readable.from([bytes]);
}

/** In-memory items to NDJSON bytes: meant for small batches, a large dataset belongs in a file. */
export function itemsToNdjson(items: readonly DatasetItem[]): Buffer {
  return Buffer.from(items.map((item) => JSON.stringify(item)).join('\n') + (items.length ? '\n' : ''));
}

/** `source` passed through unchanged, `onBytes` seeing the running byte count; an error on either side ends both. */
export function countingBytes(source: Readable, onBytes: (totalBytes: number) => void): Readable {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      callback(null, chunk);
    },
  });
  pipeline(source, counter, () => {});
  return counter;
}

// The three ways to give a dataset's items, reduced to one thing: a function opening a fresh byte stream.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, Readable, Transform } from 'node:stream';
import type { DatasetItem } from './models';

/** A path to an NDJSON file, a function returning a new stream of its bytes, or items held in memory. */
export type DatasetSourceInput = string | (() => Readable) | readonly DatasetItem[];
/** What `validateNdjson` reads: a dataset source or the NDJSON bytes themselves. */
export type NdjsonSource = DatasetSourceInput | Uint8Array;

/** Bytes per read of a file streamed or uploaded. */
export const FILE_CHUNK_BYTES = 256 * 1024;

/** Bytes `start` up to `end` (exclusive; none: to the end) of a source. */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * Each call opens the source from its start (or from `range.start`, up to `range.end`): one call per pass
 * (validation, then each upload attempt). `signal` aborts a file read (a stream given as a function handles its
 * own cancellation, and is not cut to a range).
 */
export function sourceOpener(source: NdjsonSource, signal?: AbortSignal, range?: ByteRange): () => Readable {
  if (typeof source === 'string') {
    // createReadStream's `end` is inclusive.
    const bounds = range && { start: range.start, end: range.end === undefined ? undefined : range.end - 1 };
    return () => createReadStream(source, { highWaterMark: FILE_CHUNK_BYTES, signal, ...bounds });
  }
  if (typeof source === 'function') {
    if (range) throw new Error('a stream factory is not cut to a byte range');
    return source;
  }
  const bytes = source instanceof Uint8Array ? source : itemsToNdjson(source);
  const cut = range ? bytes.subarray(range.start, range.end) : bytes;
  return () => Readable.from([cut]);
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

export interface FileChunksOptions {
  /** Bytes per read. */
  chunkBytes: number;
  /**
   * Buffers reused in turn, one of them always being read into next: a yielded chunk stays intact until
   * `buffers - 1` more chunks have been yielded. 2 for a reader done with each chunk before asking for the next.
   */
  buffers: number;
  /** The file's byte range [start, end). */
  start?: number;
  end?: number;
  signal?: AbortSignal;
}

/**
 * A file's bytes in reused buffers. A stream's fresh buffer per read lives until V8 frees it in bulk (once
 * 64 MiB of them have piled up): tens of MB of RSS for a large file, which a few reused buffers avoid.
 */
export async function* fileChunks(path: string, options: FileChunksOptions): AsyncGenerator<Buffer> {
  const { chunkBytes, start = 0, end = Number.POSITIVE_INFINITY, signal } = options;
  const file = await open(path, 'r');
  const buffers = Array.from({ length: options.buffers }, () => Buffer.allocUnsafe(chunkBytes));
  let position = start;
  /** Reads the next chunk at its position; a file's read comes back short only at its end. */
  const readInto = (buffer: Buffer) => {
    const length = Math.min(chunkBytes, end - position);
    const reading = file.read(buffer, 0, length, position).then((read) => ({ ...read, last: read.bytesRead < length }));
    position += length;
    return reading;
  };
  // The next read runs (on libuv's thread pool) while the caller uses the current chunk.
  let reading = readInto(buffers[0]);
  try {
    for (let i = 1; ; i++) {
      const { bytesRead, buffer, last } = await reading;
      signal?.throwIfAborted();
      if (bytesRead > 0) {
        if (!last) reading = readInto(buffers[i % buffers.length]);
        yield buffer.subarray(0, bytesRead);
      }
      if (last || bytesRead === 0) return;
    }
  } finally {
    await reading.catch(() => {});
    await file.close();
  }
}

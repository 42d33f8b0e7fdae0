// One shard's items out of an NDJSON byte stream: lines `start` to `end` (exclusive), counted from 0, passed
// through byte for byte. A validated source has one item per line (only a last line may be blank), so the
// line index is the item index, and each pass over the source (validation, each upload try) sees the same items.
import { pipeline, type Readable, Transform } from 'node:stream';

const NEWLINE = 0x0a;

export interface ItemRange {
  start: number;
  end: number;
}

/** The lines of `range` out of `source`; the rest of the source is read and dropped (a pass stays one pass). */
export function itemRangeOf(source: Readable, range: ItemRange): Readable {
  // The index of the line the next byte belongs to.
  let line = 0;
  const filter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (line >= range.end) {
        callback();
        return;
      }
      let keepFrom = line >= range.start ? 0 : -1;
      let position = 0;
      while (line < range.end) {
        const newline = chunk.indexOf(NEWLINE, position);
        if (newline === -1) break;
        line += 1;
        position = newline + 1;
        if (line === range.start) keepFrom = position;
        if (line === range.end && keepFrom >= 0) {
          this.push(chunk.subarray(keepFrom, position));
          keepFrom = -1;
        }
      }
      if (keepFrom >= 0 && keepFrom < chunk.length) this.push(chunk.subarray(keepFrom));
      callback();
    },
  });
  pipeline(source, filter, () => {});
  return filter;
}

/**
 * Passes `source` through unchanged and appends to `starts` the byte offset where each `every`-th line begins
 * (lines `every`, `2 × every`, …): where each shard after the first starts in the file, found in the same
 * pass as the validation, so a shard can read its own bytes instead of the whole source up to them. Notes at
 * most `limit` of them (one more says there were more).
 */
export function noteShardStarts(
  source: Readable,
  every: number,
  starts: number[],
  limit = Number.POSITIVE_INFINITY,
): Readable {
  let line = 0;
  let offset = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, newline + 1)) {
        line += 1;
        if (line % every === 0 && starts.length <= limit) starts.push(offset + newline + 1);
      }
      offset += chunk.length;
      callback(null, chunk);
    },
  });
  pipeline(source, tap, () => {});
  return tap;
}

// A shard's items out of an NDJSON stream: the same lines, byte for byte, however the stream is chunked.
import { Readable } from 'node:stream';
import { itemRangeOf, noteShardStarts } from '../../src/datature-api';

async function read(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

const lines = Array.from({ length: 10 }, (_, i) => `{"kind":"Image","url":"http://x/${i}.jpg"}`);

/** The text cut into pieces of `size` bytes, so line ends fall anywhere in (or between) chunks. */
function chunked(text: string, size: number): Readable {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return Readable.from(pieces);
}

test.each([1, 3, 7, 41, 42, 43, 1000])('lines 3 to 6 of ten, read in chunks of %i bytes', async (size) => {
  const text = `${lines.join('\n')}\n`;
  expect(await read(itemRangeOf(chunked(text, size), { start: 3, end: 7 }))).toBe(`${lines.slice(3, 7).join('\n')}\n`);
});

test.each([1, 5, 1000])('the first and the last shard; a last line without newline (chunks of %i)', async (size) => {
  const text = lines.join('\n');
  expect(await read(itemRangeOf(chunked(text, size), { start: 0, end: 4 }))).toBe(`${lines.slice(0, 4).join('\n')}\n`);
  expect(await read(itemRangeOf(chunked(text, size), { start: 8, end: 10 }))).toBe(lines.slice(8).join('\n'));
  expect(await read(itemRangeOf(chunked(`${text}\r\n`, size), { start: 9, end: 10 }))).toBe(`${lines[9]}\r\n`);
});

test('the ranges of every shard put together are the source', async () => {
  const text = `${lines.join('\n')}\n`;
  let joined = '';
  for (let start = 0; start < 10; start += 3) {
    joined += await read(itemRangeOf(chunked(text, 11), { start, end: Math.min(10, start + 3) }));
  }
  expect(joined).toBe(text);
});

describe('noteShardStarts', () => {
  const text = `${lines.join('\n')}\n`;
  /** The byte offset where line `index` starts. */
  const lineStart = (index: number) =>
    Buffer.byteLength(
      lines
        .slice(0, index)
        .map((line) => `${line}\n`)
        .join(''),
    );

  test.each([1, 3, 41, 42, 1000])(
    'notes where every third line starts, passing the bytes through (chunks of %i)',
    async (size) => {
      const starts: number[] = [];
      expect(await read(noteShardStarts(chunked(text, size), 3, starts))).toBe(text);
      // Lines 3, 6 and 9 start shards; the tenth newline ends the file, after the last line (the caller drops it).
      expect(starts).toEqual([lineStart(3), lineStart(6), lineStart(9)]);
    },
  );

  test('notes at most `limit` starts, and one more to say there were more', async () => {
    const starts: number[] = [];
    expect(await read(noteShardStarts(chunked(text, 7), 1, starts, 3))).toBe(text);
    expect(starts).toEqual([lineStart(1), lineStart(2), lineStart(3), lineStart(4)]);
  });

  test('each noted start cuts the source where itemRangeOf cuts it', async () => {
    const starts: number[] = [];
    await read(noteShardStarts(chunked(text, 7), 4, starts));
    const bytes = Buffer.from(text);
    const cuts = [0, ...starts, bytes.length];
    for (let shard = 0; shard * 4 < lines.length; shard++) {
      const range = { start: shard * 4, end: Math.min(lines.length, shard * 4 + 4) };
      expect(bytes.subarray(cuts[shard], cuts[shard + 1]).toString()).toBe(
        await read(itemRangeOf(chunked(text, 5), range)),
      );
    }
  });
});

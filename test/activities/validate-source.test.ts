// The validateSource activity's answer to a source it cannot read: a missing file or a 4xx fails at once
// (non-retryable, naming the source), a 5xx stays retryable. Sources are real files and a loopback server;
// MockActivityEnvironment only gives the activity its context, as a worker would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SourceSummary } from '../../src/activities';
import { MAX_SHARDS_WITH_BYTE_RANGES, validateSource } from '../../src/activities/datasets';
import { crc32cBase64 } from '../../src/datature-api';
import type { DatasetSourceInput } from '../../src/workflows/definitions';
import { type LoopbackServer, startLoopbackServer } from '../datature-api/helpers/loopback-server';

let dir: string;
let server: LoopbackServer;
/** Ten items, one per line: the source the shard tests cut. */
const TEN_LINES = Array.from({ length: 10 }, (_, i) => `{"kind":"Image","url":"https://a.test/${i}.png"}`);
const TEN = Buffer.from(`${TEN_LINES.join('\n')}\n`);
/** Where line `index` of TEN starts. */
const lineStart = (index: number) => TEN.indexOf(TEN_LINES[index]);
const rangeHeaders: (string | undefined)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'validate-source-'));
  server = await startLoopbackServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/ten-unlabelled') return void res.writeHead(206).end(TEN);
    if (path === '/ten-capped') {
      // A server sending at most 10 bytes of the range asked for.
      const from = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')![1]);
      return void res
        .writeHead(206, { 'content-range': `bytes ${from}-${from + 9}/${TEN.length}` })
        .end(TEN.subarray(from, from + 10));
    }
    if (path === '/ten-elsewhere') {
      // A proxy's own 206: another range than the one asked for.
      return void res.writeHead(206, { 'content-range': `bytes 0-99/${TEN.length}` }).end(TEN.subarray(0, 100));
    }
    if (path === '/ten-ranged' || path === '/ten-whole') {
      // A server that honours Range (206 with those bytes) and one that sends the whole file (200).
      rangeHeaders.push(req.headers.range);
      const asked = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (path === '/ten-whole' || !asked) return void res.writeHead(200).end(TEN);
      const end = asked[2] === '' ? TEN.length : Number(asked[2]) + 1;
      return void res
        .writeHead(206, { 'content-range': `bytes ${asked[1]}-${end - 1}/${TEN.length}` })
        .end(TEN.subarray(Number(asked[1]), end));
    }
    const status = Number(path.slice(1));
    res.writeHead(status).end(status === 200 ? '{"kind":"Image","url":"https://a.test/1.png"}\n' : 'no');
  });
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server.close();
});

async function failureOf(source: DatasetSourceInput): Promise<ApplicationFailure> {
  try {
    await new MockActivityEnvironment().run(validateSource, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected validateSource to fail');
}

test('a missing file fails non-retryably, naming the path and the error code', async () => {
  const ndjsonPath = join(dir, 'no-such-file.ndjson');
  const failure = await failureOf({ ndjsonPath });
  expect(failure.message).toBe(`cannot read dataset source ${ndjsonPath}: ENOENT`);
  expect(failure.nonRetryable).toBe(true);
});

test('a directory instead of a file fails non-retryably', async () => {
  expect((await failureOf({ ndjsonPath: dir })).nonRetryable).toBe(true);
});

test.each([
  [404, true],
  [403, true],
  [503, false],
  [429, false],
])('a URL answering %i fails with nonRetryable=%s', async (status, nonRetryable) => {
  const ndjsonUrl = `${server.url}/${status}`;
  const failure = await failureOf({ ndjsonUrl });
  expect(failure.message).toBe(`cannot read dataset source ${ndjsonUrl}: HTTP ${status}`);
  expect(failure.nonRetryable).toBe(nonRetryable);
});

test("a signed URL's query (a credential) stays out of the message", async () => {
  const failure = await failureOf({ ndjsonUrl: `${server.url}/404?X-Goog-Signature=secret` });
  expect(failure.message).toBe(`cannot read dataset source ${server.url}/404?[REDACTED]: HTTP 404`);
});

test('a readable URL is described', async () => {
  const summary: SourceSummary = await new MockActivityEnvironment().run(validateSource, {
    ndjsonUrl: `${server.url}/200`,
  });
  expect(summary.itemCount).toBe(1);
});

test('an empty file is zero items only when allowed', async () => {
  const ndjsonPath = join(dir, 'empty.ndjson');
  writeFileSync(ndjsonPath, '');
  const summary: SourceSummary = await new MockActivityEnvironment().run(
    validateSource,
    { ndjsonPath },
    { allowEmpty: true },
  );
  expect(summary.itemCount).toBe(0);
  expect((await failureOf({ ndjsonPath })).message).toMatch(/the file is empty/);
});

test("a local file is read by the client's file path (reused 1 MiB buffers), not through a stream; heartbeats count its bytes", async () => {
  const ndjsonPath = join(dir, 'four-mib.ndjson');
  const line = '{"kind":"Image","url":"https://a.test/1.png"}\n';
  writeFileSync(ndjsonPath, line.repeat(Math.ceil((4 * 1024 * 1024) / line.length)));
  const env = new MockActivityEnvironment();
  const beats: number[] = [];
  env.on('heartbeat', (details: { readBytes: number }) => beats.push(details.readBytes));
  const summary: SourceSummary = await env.run(validateSource, { ndjsonPath });
  // The file path reads 1 MiB a time; a stream of the file would bring 256 KiB chunks (16 beats, not 5).
  expect(beats).toEqual([1, 2, 3, 4].map((mib) => mib * 1024 * 1024).concat(summary.sizeBytes));
});

describe('a sharded run: where shards start, and a shard reading only its bytes', () => {
  const validate = (source: DatasetSourceInput, options?: { shardStartsEvery?: number }): Promise<SourceSummary> =>
    new MockActivityEnvironment().run(validateSource, source, options);
  /** What a validation of exactly these bytes describes. */
  const describedAs = (from: number, to: number) => ({
    sizeBytes: to - from,
    crc32c: crc32cBase64(TEN.subarray(from, to)),
  });

  test('shardStartsEvery notes where each shard after the first starts, in a file and a URL', async () => {
    const ndjsonPath = join(dir, 'ten.ndjson');
    writeFileSync(ndjsonPath, TEN);
    const expected = [lineStart(3), lineStart(6), lineStart(9)];
    expect((await validate({ ndjsonPath }, { shardStartsEvery: 3 })).shardStarts).toEqual(expected);
    expect((await validate({ ndjsonUrl: `${server.url}/ten-whole` }, { shardStartsEvery: 3 })).shardStarts).toEqual(
      expected,
    );
    // Shards of 5: two, so one start (the newline ending the file starts no shard).
    expect((await validate({ ndjsonPath }, { shardStartsEvery: 5 })).shardStarts).toEqual([lineStart(5)]);
    expect((await validate({ ndjsonPath })).shardStarts).toBeUndefined();
  });

  test('past MAX_SHARDS_WITH_BYTE_RANGES shards no start is noted (the payloads stay far from 2 MB)', async () => {
    const ndjsonPath = join(dir, 'many-shards.ndjson');
    writeFileSync(ndjsonPath, `${TEN_LINES[0]}\n`.repeat(MAX_SHARDS_WITH_BYTE_RANGES + 1));
    // One shard too many: none; exactly the most: all but the first shard's start.
    expect((await validate({ ndjsonPath }, { shardStartsEvery: 1 })).shardStarts).toBeUndefined();
    writeFileSync(ndjsonPath, `${TEN_LINES[0]}\n`.repeat(MAX_SHARDS_WITH_BYTE_RANGES));
    expect((await validate({ ndjsonPath }, { shardStartsEvery: 1 })).shardStarts).toHaveLength(
      MAX_SHARDS_WITH_BYTE_RANGES - 1,
    );
  });

  test('a file shard with its byte offsets reads those bytes', async () => {
    const ndjsonPath = join(dir, 'ten-shard.ndjson');
    writeFileSync(ndjsonPath, TEN);
    // The item indices say lines 0 to 2 and the bytes say lines 3 to 5, on purpose: the bytes are what is read.
    const middle = { start: 0, end: 3, byteStart: lineStart(3), byteEnd: lineStart(6) };
    expect(await validate({ ndjsonPath, itemRange: middle })).toMatchObject({
      itemCount: 3,
      ...describedAs(lineStart(3), lineStart(6)),
    });
    const last = { start: 9, end: 10, byteStart: lineStart(9) };
    expect(await validate({ ndjsonPath, itemRange: last })).toMatchObject(describedAs(lineStart(9), TEN.length));
  });

  test('an inline-items shard with its byte offsets reads those bytes of the items as NDJSON', async () => {
    const items = TEN_LINES.map((line) => JSON.parse(line) as { kind: 'Image'; url: string });
    const itemRange = { start: 0, end: 3, byteStart: lineStart(3), byteEnd: lineStart(6) };
    expect(await validate({ items, itemRange })).toMatchObject({
      itemCount: 3,
      ...describedAs(lineStart(3), lineStart(6)),
    });
  });

  test('a URL shard asks for its bytes with Range; from a server sending the whole file it cuts them', async () => {
    const itemRange = { start: 3, end: 6, byteStart: lineStart(3), byteEnd: lineStart(6) };
    rangeHeaders.length = 0;
    for (const path of ['/ten-ranged', '/ten-whole']) {
      expect(await validate({ ndjsonUrl: `${server.url}${path}`, itemRange })).toMatchObject({
        itemCount: 3,
        ...describedAs(lineStart(3), lineStart(6)),
      });
    }
    expect(rangeHeaders).toEqual([
      `bytes=${lineStart(3)}-${lineStart(6) - 1}`,
      `bytes=${lineStart(3)}-${lineStart(6) - 1}`,
    ]);
    // The last shard's range runs to the end of the file.
    rangeHeaders.length = 0;
    await validate({
      ndjsonUrl: `${server.url}/ten-ranged`,
      itemRange: { start: 9, end: 10, byteStart: lineStart(9) },
    });
    expect(rangeHeaders).toEqual([`bytes=${lineStart(9)}-`]);
  });

  test('a 206 answer for another range than asked (another start, a capped length), or not saying which, is refused', async () => {
    const ndjsonUrl = `${server.url}/ten-elsewhere`;
    const failure = await failureOf({ ndjsonUrl, itemRange: { start: 3, end: 6, byteStart: lineStart(3) } });
    expect(failure.message).toBe(
      `cannot read dataset source ${ndjsonUrl} (items 3 to 5): HTTP 206 for bytes 0-99, not ${lineStart(3)}-${TEN.length - 1}`,
    );
    const unlabelled = `${server.url}/ten-unlabelled`;
    expect((await failureOf({ ndjsonUrl: unlabelled, itemRange: { start: 3, end: 6, byteStart: 9 } })).message).toBe(
      `cannot read dataset source ${unlabelled} (items 3 to 5): HTTP 206 without a Content-Range`,
    );
    const capped = `${server.url}/ten-capped`;
    const itemRange = { start: 3, end: 6, byteStart: lineStart(3), byteEnd: lineStart(6) };
    expect((await failureOf({ ndjsonUrl: capped, itemRange })).message).toBe(
      `cannot read dataset source ${capped} (items 3 to 5): HTTP 206 for bytes ${lineStart(3)}-${lineStart(3) + 9}, ` +
        `not ${lineStart(3)}-${lineStart(6) - 1}`,
    );
  });

  test('a shard whose bytes hold its items in fewer bytes than noted fails non-retryably: the source changed', async () => {
    // Lines 3 to 5 rewritten shorter: the noted bytes now hold them and the start of line 6, cut away.
    const shorter = TEN_LINES.map((line, i) =>
      i >= 3 && i <= 5 ? line.replace('https://a.test/', 'http://a/') : line,
    );
    const ndjsonPath = join(dir, 'rewritten.ndjson');
    writeFileSync(ndjsonPath, `${shorter.join('\n')}\n`);
    const itemRange = { start: 3, end: 6, byteStart: lineStart(3), byteEnd: lineStart(6) };
    const failure = await failureOf({ ndjsonPath, itemRange });
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    const expectedBytes = lineStart(6) - lineStart(3);
    expect(failure.message).toBe(
      `dataset source ${ndjsonPath} (items 3 to 5): ${expectedBytes - 3 * 'https://a.test/'.length + 3 * 'http://a/'.length} bytes ` +
        `where the sharded run found ${expectedBytes}; the source changed since the run split it`,
    );
  });

  test('a shard finding fewer items than its range fails non-retryably: the source changed since the split', async () => {
    const ndjsonPath = join(dir, 'shrunk.ndjson');
    writeFileSync(ndjsonPath, TEN.subarray(0, lineStart(5)));
    const failure = await failureOf({ ndjsonPath, itemRange: { start: 3, end: 6 } });
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect(failure.message).toBe(
      `dataset source ${ndjsonPath} (items 3 to 5): 2 items where the sharded run counted 3; the source changed since the run split it`,
    );
  });
});

// What a sharded run's shards read of their source (docs/pipeline.md, "Sharding"): 1,000,000 items (100,000
// with BENCH_QUICK=1) in shards of 10,000, from a local file and from a loopback URL. The baseline is how shards
// read before the parent noted their byte offsets: every pass of every shard read the whole source (to the end,
// keeping only its range's lines); against it, each shard reading only its bytes (a file's range, a `Range`
// request). Timed: the parent's one validation pass, then every shard's validation pass (the upload reads the
// same bytes again), one after the other, through the real validateSource activity. Bytes read are the
// process's own (`rchar` of /proc/self/io) for the file, the server's bytes sent for the URL.
//   npx tsx bench/shard-reads.ts      BENCH_QUICK=1 npx tsx bench/shard-reads.ts
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SourceSummary } from '../src/activities';
import { validateSource } from '../src/activities/datasets';
import { startStaticFileServer } from '../src/dev/static-file-server';
import type { DatasetSourceInput, ItemRange } from '../src/workflows/definitions';
import { shardBytesOf } from '../src/workflows/sharded-batch-prediction';
import { type Figures, QUICK, runBench, runIfMain } from './support/ab';

const ITEMS = QUICK ? 100_000 : 1_000_000;
const SHARD_SIZE = 10_000;
const ROUNDS = QUICK ? 1 : 3;
const MB = 1e6;

/** Bytes this process has read through read(2) so far, page cache included. */
function bytesReadByProcess(): number {
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

/** The dev stack's file server (it answers byte ranges as object stores do), counting the bytes it sends. */
async function startFileServer(dir: string): Promise<{ url: string; sent: () => number; close(): Promise<void> }> {
  let sent = 0;
  const server = await startStaticFileServer({ root: dir, onBytesSent: (bytes) => (sent += bytes) });
  return { url: `${server.url}/items.ndjson`, sent: () => sent, close: () => server.close() };
}

function validate(source: DatasetSourceInput, options?: { shardStartsEvery?: number }): Promise<SourceSummary> {
  return new MockActivityEnvironment().run(validateSource, source, options);
}

/** The parent's pass, then every shard's: with the byte offsets the pass noted, or by item indices only. */
async function readAllShards(
  source: { ndjsonPath: string } | { ndjsonUrl: string },
  byBytes: boolean,
  bytesRead: () => number,
): Promise<Figures> {
  const started = performance.now();
  const parent = await validate(source, byBytes ? { shardStartsEvery: SHARD_SIZE } : {});
  const passed = performance.now();
  const readBefore = bytesRead();
  const shardCount = Math.ceil(parent.itemCount / SHARD_SIZE);
  for (let index = 0; index < shardCount; index++) {
    const range: ItemRange = {
      start: index * SHARD_SIZE,
      end: Math.min(parent.itemCount, (index + 1) * SHARD_SIZE),
      ...(byBytes && shardBytesOf(parent.shardStarts!, index)),
    };
    const shard = await validate({ ...source, itemRange: range });
    if (shard.itemCount !== range.end - range.start) throw new Error(`shard ${index}: ${shard.itemCount} items`);
  }
  const ended = performance.now();
  return {
    passS: (passed - started) / 1000,
    shardsS: (ended - passed) / 1000,
    totalS: (ended - started) / 1000,
    shardMB: (bytesRead() - readBefore) / MB,
  };
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-shard-reads-'));
  const file = join(dir, 'items.ndjson');
  const line = (i: number) => `{"kind":"Image","url":"https://images.example.com/batch/${i}.jpg"}\n`;
  writeFileSync(file, Array.from({ length: ITEMS }, (_, i) => line(i)).join(''));
  const server = await startFileServer(dir);
  const sizeMB = statSync(file).size / MB;
  const columns = [
    { key: 'passS', label: "parent's pass s", digits: 2 },
    { key: 'shardsS', label: 'all shards s', digits: 2, ratio: true },
    { key: 'totalS', label: 'total s', digits: 2, ratio: true },
    { key: 'shardMB', label: 'MB the shards read', digits: 0, ratio: true },
  ];
  const setup = (from: string) =>
    `${ITEMS.toLocaleString('en')} items (${sizeMB.toFixed(0)} MB) ${from}, shards of ${SHARD_SIZE.toLocaleString('en')} ` +
    `(${Math.ceil(ITEMS / SHARD_SIZE)}), the parent's pass then each shard's validation pass through the validateSource activity, one process`;
  try {
    for (const [from, source, bytesRead] of [
      ['in a local file', { ndjsonPath: file }, bytesReadByProcess],
      ['at a loopback URL that honours Range', { ndjsonUrl: server.url }, server.sent],
    ] as const) {
      await runBench({
        title: `shard reads: ${from}`,
        setup: setup(from),
        rounds: ROUNDS,
        baseline: {
          name: 'each shard reads the whole source (before)',
          run: () => readAllShards(source, false, bytesRead),
        },
        variants: [{ name: 'each shard its own bytes', run: () => readAllShards(source, true, bytesRead) }],
        columns,
      });
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(module, main);

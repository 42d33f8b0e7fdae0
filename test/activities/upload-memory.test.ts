// The worker's own upload (validateSource, then uploadDataset, on a local file) keeps its memory flat: a
// 1 GiB file grows the activity process's RSS by less than 64 MiB. Measured in a child process, so the
// test runner and the server taking the bytes are not counted; bench/upload-memory.ts --activity prints
// the same figures.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type DiscardDatasetServer, startDiscardDatasetServer } from '../../bench/support/discard-dataset-server';

const MB = 1024 * 1024;
const FILE_BYTES = 1024 * MB;
const CHILD = join(__dirname, '..', '..', 'bench', 'support', 'upload-activity-child.ts');

let dir: string;
let file: string;
let server: DiscardDatasetServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'activity-upload-memory-'));
  file = join(dir, 'items.ndjson');
  const line = `{"kind":"Image","url":"https://storage.example.com/images/${'x'.repeat(60)}.jpg"}\n`;
  const block = Buffer.from(line.repeat(Math.floor((4 * MB) / line.length)));
  const out = createWriteStream(file);
  for (let written = 0; written < FILE_BYTES; written += block.length) {
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  server = await startDiscardDatasetServer();
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('validateSource + uploadDataset of a 1 GiB file grow RSS by less than 64 MiB', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', 'tsx/cjs', CHILD, server.url, file], {
    timeout: 240_000,
  });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
  console.log(
    `worker upload of ${(report.sizeBytes / MB).toFixed(0)} MiB: RSS growth ${report.validatePeakGrowthMb.toFixed(1)} MiB ` +
      `validating (${report.validateSeconds.toFixed(1)} s), ${report.peakGrowthMb.toFixed(1)} MiB at peak ` +
      `(upload ${report.uploadSeconds.toFixed(1)} s)`,
  );
  expect(report.sizeBytes).toBeGreaterThanOrEqual(FILE_BYTES);
  expect(server.received.bytes).toBe(report.sizeBytes);
  expect(server.received.crc32c).toBe(report.crc32c);
  expect(server.received.declaredCrc32c).toBe(report.crc32c);
  expect(report.peakGrowthMb).toBeLessThan(64);
}, 300_000);

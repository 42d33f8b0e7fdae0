// Streams a > 200 MB NDJSON dataset through DatatureClient.datasets.create (validation pass + signed-URL
// upload) and prints throughput and RSS growth of the client process (goal: < 64 MB growth).
// The server runs in a child process so its memory is not counted:
//   npx tsx bench/upload-memory.ts            -> the emulator (src/emulator) receives the upload
//   npx tsx bench/upload-memory.ts --discard  -> a bare loopback server that hashes and discards
//   npx tsx bench/upload-memory.ts --activity -> the worker's own activities (validateSource, uploadDataset)
//                                               on the file, in a child process, to the discard server
//   BENCH_MB=1024 npx tsx bench/upload-memory.ts --activity
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatatureClient } from '../src/datature-api';
import { startDiscardDatasetServer } from './support/discard-dataset-server';
import { writeSignedUrlDataset } from './support/signed-url-dataset';

const MB = 1024 * 1024;

interface ServerInfo {
  url: string;
  projectId: string;
  secretKey: string;
}

/** Child role: serve, print one JSON line with the address, run until killed. */
async function serve(mode: string): Promise<void> {
  if (mode === 'emulator') {
    // require, not import(): this child runs under tsx's CommonJS hook.
    const { startEmulator } = require('../src/emulator') as typeof import('../src/emulator');
    const emulator = await startEmulator({ port: 0 });
    console.log(JSON.stringify({ url: emulator.url, projectId: emulator.projectId, secretKey: emulator.secretKey }));
    return;
  }
  // Discard mode answers the API's dataset calls itself and accepts the PUT, hashing the bytes.
  const server = await startDiscardDatasetServer();
  console.log(JSON.stringify({ url: server.url, projectId: 'proj_discard', secretKey: 'bench-key' }));
}

async function startChild(mode: string): Promise<{ child: ChildProcess; info: ServerInfo }> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', __filename, '--serve', mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffered = '';
  for await (const chunk of child.stdout!) {
    buffered += chunk;
    if (buffered.includes('\n')) break;
  }
  try {
    return { child, info: JSON.parse(buffered.split('\n')[0]) as ServerInfo };
  } catch (err) {
    child.kill();
    throw err;
  }
}

/** The worker's activities in a child process (its RSS is theirs), the discard server in this one. */
async function activityMain(sizeMb: number): Promise<void> {
  const server = await startDiscardDatasetServer();
  const dir = mkdtempSync(join(tmpdir(), 'datature-api-upload-bench-'));
  const file = join(dir, 'bench.ndjson');
  try {
    await writeSignedUrlDataset(file, sizeMb * MB);
    const child = spawn(
      process.execPath,
      ['-r', 'tsx/cjs', join(__dirname, 'support', 'upload-activity-child.ts'), server.url, file],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    for await (const chunk of child.stdout!) out += chunk;
    const report = JSON.parse(out.trim().split('\n').at(-1)!);
    const size = report.sizeBytes / MB;
    console.log('server:            discard (the worker activities validateSource + uploadDataset)');
    console.log(`file:              ${size.toFixed(1)} MB`);
    console.log(
      `validate + CRC32C: ${(size / report.validateSeconds).toFixed(1)} MB/s (${report.validateSeconds.toFixed(2)} s)`,
    );
    console.log(
      `upload:            ${(size / report.uploadSeconds).toFixed(1)} MB/s (${report.uploadSeconds.toFixed(2)} s)`,
    );
    console.log(`RSS baseline:      ${report.baselineMb.toFixed(1)} MB`);
    console.log(`RSS growth, validation pass: ${report.validatePeakGrowthMb.toFixed(1)} MB`);
    console.log(`RSS growth (peak): ${report.peakGrowthMb.toFixed(1)} MB (goal < 64 MB)`);
    if (server.received.bytes !== report.sizeBytes) throw new Error(`server took ${server.received.bytes} bytes`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizeMbAsked = Number(process.env.BENCH_MB ?? 210);
  if (process.argv.includes('--activity')) return activityMain(sizeMbAsked);
  const mode = process.argv.includes('--discard') ? 'discard' : 'emulator';
  const sizeMb = sizeMbAsked;
  const { child, info } = await startChild(mode);
  const dir = mkdtempSync(join(tmpdir(), 'datature-api-upload-bench-'));
  const file = join(dir, 'bench.ndjson');
  try {
    await writeSignedUrlDataset(file, sizeMb * MB);
    const size = statSync(file).size;
    const datatureApi = new DatatureClient({ secretKey: info.secretKey, projectId: info.projectId, baseUrl: info.url });
    global.gc?.();
    let uploadStarted = 0;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let validationPeak = baseline;
    const sampler = setInterval(() => {
      const { rss } = process.memoryUsage();
      peak = Math.max(peak, rss);
      if (uploadStarted === 0) validationPeak = Math.max(validationPeak, rss);
    }, 20);
    const started = performance.now();
    await datatureApi.datasets.create(
      { name: 'bench', source: file },
      {
        onUploadProgress: (sent) => {
          if (sent > 0 && uploadStarted === 0) uploadStarted = performance.now();
        },
      },
    );
    const ended = performance.now();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const validateSeconds = (uploadStarted - started) / 1000;
    const uploadSeconds = (ended - uploadStarted) / 1000;
    console.log(`server:            ${mode}`);
    console.log(`file:              ${(size / MB).toFixed(1)} MB`);
    console.log(
      `validate + CRC32C: ${(size / MB / validateSeconds).toFixed(1)} MB/s (${validateSeconds.toFixed(2)} s)`,
    );
    console.log(`upload:            ${(size / MB / uploadSeconds).toFixed(1)} MB/s (${uploadSeconds.toFixed(2)} s)`);
    console.log(`end to end:        ${(size / MB / ((ended - started) / 1000)).toFixed(1)} MB/s`);
    console.log(`RSS baseline:      ${(baseline / MB).toFixed(1)} MB`);
    console.log(`RSS growth, validation pass: ${((validationPeak - baseline) / MB).toFixed(1)} MB`);
    console.log(`RSS growth (peak): ${((peak - baseline) / MB).toFixed(1)} MB (goal < 64 MB)`);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  void serve(process.argv[3]);
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

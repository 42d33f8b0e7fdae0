// 10,000-item job through the emulator: items from a loopback file server, an instant model, a 204 webhook.
// Prints items/s and peak RSS, then streams a large dataset upload (default 256 MiB of 1 KiB lines) and
// prints its speed and how much RSS grew meanwhile (upload and processing must stream, not buffer).
// Usage: npx tsx bench/emulator-throughput.ts [items] [--memory] [--upload-mib N]
// (--memory keeps state in memory; by default it uses a temporary SQLite file, as a persisted run would).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { Crc32c, crc32cBase64 } from '../src/datature-api/crc32c';
import { startEmulator } from '../src/emulator';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(2048)]);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `mib` MiB of NDJSON items of about 1 KiB each, generated 1 MiB at a time, never held in memory at once. */
function* bigNdjson(mib: number): Generator<Buffer> {
  const pad = 'a'.repeat(1024 - 64);
  for (let chunk = 0; chunk < mib; chunk++) {
    const lines = Array.from(
      { length: 1024 },
      (_, i) => `${JSON.stringify({ kind: 'Image', url: `http://127.0.0.1:9/${chunk}-${i}.png?${pad}` })}\n`,
    );
    yield Buffer.from(lines.join(''));
  }
}

async function main() {
  const itemCount = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 10_000);
  const inMemory = process.argv.includes('--memory');
  const uploadFlag = process.argv.indexOf('--upload-mib');
  const uploadMiB = uploadFlag > 0 ? Number(process.argv[uploadFlag + 1]) : 256;
  const dir = mkdtempSync(join(tmpdir(), 'emulator-bench-'));
  const images = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  let delivered = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered += 1;
      res.writeHead(204).end();
    });
  });
  const imagesUrl = await listen(images);
  const receiverUrl = await listen(receiver);
  const emulator = await startEmulator({ dbPath: inMemory ? undefined : join(dir, 'bench.db'), tickIntervalMs: 100 });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${emulator.url}/projects/${emulator.projectId}${path}`, {
      method,
      headers: { 'secret-key': emulator.secretKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few known fields of the API's JSON.
    return response.json() as Promise<any>;
  };
  try {
    const webhook = await call('POST', '/batch/webhooks', {
      name: 'bench',
      spec: { endpoint: receiverUrl, secret: { contents: randomBytes(32).toString('base64') } },
    });
    const file = Buffer.from(
      Array.from(
        { length: itemCount },
        (_, i) => `${JSON.stringify({ kind: 'Image', url: `${imagesUrl}/${i}.png` })}\n`,
      ).join(''),
    );
    const dataset = await call('POST', '/batch/datasets', {
      name: 'bench',
      spec: {
        source: { kind: 'UploadedNewlineDelimitedJsonFile', sizeBytes: file.length, crc32c: crc32cBase64(file) },
      },
    });
    const { uploadUrl } = dataset.status.source;
    const uploadStarted = performance.now();
    // fetch sets content-length itself and rejects a second one.
    const { 'content-length': _length, ...headers } = uploadUrl.headers;
    await fetch(uploadUrl.url, { method: 'PUT', headers, body: file });
    while ((await call('GET', `/batch/datasets/${dataset.id}`)).status.overview !== 'Uploaded') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const processingMs = performance.now() - uploadStarted;
    const started = performance.now();
    const job = await call('POST', '/batch/jobs', {
      name: 'bench',
      spec: {
        datasetId: dataset.id,
        deployment: { kind: 'ExistingDeployment', deploymentId: emulator.deploymentId },
        resultDelivery: { destinations: [{ kind: 'Webhook', webhookId: webhook.id }] },
      },
    });
    let latest = job;
    let apiLatencyMax = 0;
    while (latest.status.overview !== 'Reached' && latest.status.overview !== 'Failed') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const asked = performance.now();
      latest = await call('GET', `/batch/jobs/${job.id}`);
      apiLatencyMax = Math.max(apiLatencyMax, performance.now() - asked);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify(
        {
          items: itemCount,
          state: inMemory ? 'memory' : 'sqlite file',
          overview: latest.status.overview,
          delivered: latest.status.items.Delivered,
          webhookRequests: delivered,
          uploadAndProcessingMs: Math.round(processingMs),
          jobSeconds: Math.round(seconds * 100) / 100,
          itemsPerSecond: Math.round(itemCount / seconds),
          maxGetJobLatencyMs: Math.round(apiLatencyMax),
          peakRssMiB: Math.round(peakRss / 1024 / 1024),
        },
        null,
        2,
      ),
    );

    const crc = new Crc32c();
    let sizeBytes = 0;
    for (const chunk of bigNdjson(uploadMiB)) {
      crc.update(chunk);
      sizeBytes += chunk.length;
    }
    const big = await call('POST', '/batch/datasets', {
      name: 'bench-big',
      spec: { source: { kind: 'UploadedNewlineDelimitedJsonFile', sizeBytes, crc32c: crc.base64() } },
    });
    const rssBefore = process.memoryUsage().rss;
    peakRss = rssBefore;
    const uploadStartedAt = performance.now();
    const put = await request(big.status.source.uploadUrl.url, {
      method: 'PUT',
      headers: big.status.source.uploadUrl.headers,
      body: Readable.from(bigNdjson(uploadMiB)),
    });
    await put.body.dump();
    const uploadSeconds = (performance.now() - uploadStartedAt) / 1000;
    while ((await call('GET', `/batch/datasets/${big.id}`)).status.overview === 'Processing') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const processed = await call('GET', `/batch/datasets/${big.id}`);
    console.log(
      JSON.stringify(
        {
          uploadMiB: Math.round(sizeBytes / 1024 / 1024),
          uploadStatus: put.statusCode,
          overview: processed.status.overview,
          itemCount: processed.status.itemCount,
          uploadMiBPerSecond: Math.round(sizeBytes / 1024 / 1024 / uploadSeconds),
          uploadAndProcessingSeconds: Math.round((performance.now() - uploadStartedAt) / 10) / 100,
          // Includes this process generating the file on the fly; the emulator shares the process.
          rssGrowthDuringUploadAndProcessingMiB: Math.round((peakRss - rssBefore) / 1024 / 1024),
        },
        null,
        2,
      ),
    );
  } finally {
    clearInterval(sampler);
    await emulator.close();
    images.closeAllConnections();
    receiver.closeAllConnections();
    images.close();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

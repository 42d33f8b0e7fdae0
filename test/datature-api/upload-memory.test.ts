// A loose guard that an upload streams instead of buffering the file: RSS growth must stay well below
// the file size. The real figures (> 200 MB, goal < 64 MB growth) come from bench/upload-memory.ts.
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Crc32c, DatatureClient } from '../../src/datature-api';
import { datasetWire } from './fixtures/seed-wire';
import { json } from './helpers/loopback-server';

const MB = 1024 * 1024;
const FILE_MB = 96;

let dir: string;
let file: string;
let server: Server;
let url: string;
const received = { bytes: 0, crc: new Crc32c(), declaredCrc: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'datature-api-upload-memory-'));
  file = join(dir, 'items.ndjson');
  const out = createWriteStream(file);
  const line = `{"kind":"Image","url":"https://storage.example.com/images/${'x'.repeat(60)}.jpg"}\n`;
  const block = line.repeat(Math.floor(MB / line.length));
  for (let written = 0; written < FILE_MB * MB; written += block.length) {
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  // This server does not keep what it receives: only its size and CRC32C.
  server = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      const uploadUrl = {
        method: 'PUT',
        url: `${url}/upload`,
        headers: { 'x-goog-if-generation-match': '0' },
        expiresAtTime: 0,
      };
      return req.on('end', () => {
        received.declaredCrc = JSON.parse(body).spec.source.crc32c;
        json(res, 200, {
          ...datasetWire,
          status: { ...datasetWire.status, source: { ...datasetWire.status.source, uploadUrl } },
        });
      });
    }
    req.on('data', (chunk: Buffer) => {
      received.bytes += chunk.length;
      received.crc.update(chunk);
    });
    req.on('end', () => {
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

test(`a ${FILE_MB} MB upload grows RSS by much less than the file`, async () => {
  const datatureApi = new DatatureClient({ secretKey: 'k', projectId: 'p', baseUrl: url });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  let lastProgress = [0, 0];
  try {
    await datatureApi.datasets.create(
      { name: 'big', source: file },
      { onUploadProgress: (sent, total) => (lastProgress = [sent, total]) },
    );
  } finally {
    clearInterval(sampler);
  }
  const growthMb = (Math.max(peak, process.memoryUsage().rss) - baseline) / MB;
  console.log(`RSS growth for a ${FILE_MB} MB upload: ${growthMb.toFixed(1)} MB`);
  expect(received.bytes).toBeGreaterThanOrEqual((FILE_MB - 1) * MB);
  expect(lastProgress).toEqual([received.bytes, received.bytes]);
  expect(received.crc.base64()).toBe(received.declaredCrc);
  expect(growthMb).toBeLessThan(FILE_MB * 0.75);
});

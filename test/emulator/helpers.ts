// Real loopback servers the emulator tests talk to: a static image server, a webhook receiver, and a
// small JSON client for the emulator's API.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { crc32cBase64 } from '../../src/datature-api/crc32c';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../src/emulator';
import { verifyDelivery } from '../../src/webhook-delivery/signature';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function pngCrc(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(pngCrc(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 1x1 PNG whose single pixel is `seed`, so different seeds give different bytes. */
export function tinyPng(seed: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8;
  header[9] = 2;
  const pixel = Buffer.from([0, seed & 0xff, (seed >> 8) & 0xff, (seed >> 16) & 0xff]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixel)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Serves `/img/<n>.png` (a tiny PNG), `/text/<n>.txt` (not an image); anything else is a 404. */
export async function startImageServer() {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    const png = /^\/img\/(\d+)\.png$/.exec(req.url ?? '');
    if (png) {
      const body = tinyPng(Number(png[1]));
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      return res.end(body);
    }
    if (/^\/text\//.test(req.url ?? '')) return res.end('hello, not an image');
    res.writeHead(404).end();
  });
  const url = await listen(server);
  return { url, requests: () => requests, close: () => closeServer(server) };
}

export type ImageServer = Awaited<ReturnType<typeof startImageServer>>;

export interface ReceivedDelivery {
  headers: IncomingMessage['headers'];
  body: Buffer;
  json: Record<string, unknown>;
}

/** A webhook endpoint that records each request; `respond` decides the status of each one. */
export async function startReceiver(respond: (delivery: ReceivedDelivery, index: number) => number = () => 204) {
  const received: ReceivedDelivery[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const part of req) chunks.push(part as Buffer);
    const body = Buffer.concat(chunks);
    const delivery = { headers: req.headers, body, json: JSON.parse(body.toString('utf8')) };
    received.push(delivery);
    res.writeHead(respond(delivery, received.length - 1)).end();
  });
  const url = await listen(server);
  return { url, received, close: () => closeServer(server) };
}

export const newSecret = () => randomBytes(32).toString('base64');

export function verify(secret: string, delivery: ReceivedDelivery) {
  return verifyDelivery([secret], delivery.headers, delivery.body, Math.floor(Date.now() / 1000));
}

export function ndjson(urls: string[]): Buffer {
  return Buffer.from(urls.map((url) => `${JSON.stringify({ kind: 'Image', url })}\n`).join(''));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields of API responses.
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A thin JSON client: `api.call('POST', '/batch/webhooks', body)` under the project path. */
export function apiClient(baseUrl: string, projectId: string, secretKey: string) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields of API responses.
  const call = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { 'secret-key': secretKey },
  ): Promise<ApiResponse<T>> => {
    const response = await fetch(`${baseUrl}${path.startsWith('/_') ? '' : `/projects/${projectId}`}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: response.status, body: parsed as T, headers: response.headers };
  };
  return { call };
}

export type Api = ReturnType<typeof apiClient>;

/** The in-process emulator most suites share across a describe block, with item images to feed its jobs. */
export async function startEmulatorFixture(options: EmulatorOptions) {
  const emulator = await startEmulator(options);
  const images = await startImageServer();
  const api = apiClient(emulator.url, emulator.projectId, emulator.secretKey);
  const close = async () => {
    await emulator.close();
    await images.close();
  };
  return { emulator, images, api, close };
}

export interface EmulatorFixture {
  emulator: RunningEmulator;
  images: ImageServer;
  api: Api;
  /** With `webhookSink`: a webhook whose deliveries a verifying receiver takes. */
  webhookId: string;
}

/**
 * The suites' shared setup: an emulator with these options, an image server and an API client for the
 * suite (`beforeAll`), closed after it (`afterAll`), with a webhook sink when asked. Read its fields inside
 * tests and hooks: they are set once `beforeAll` has run.
 */
export function useEmulatorFixture(options: EmulatorOptions, { webhookSink = false } = {}): EmulatorFixture {
  const fixture = {} as EmulatorFixture;
  let close = async () => {};
  let closeSink = async () => {};
  beforeAll(async () => {
    const started = await startEmulatorFixture(options);
    Object.assign(fixture, started);
    close = started.close;
    if (webhookSink) ({ webhookId: fixture.webhookId, close: closeSink } = await startWebhookSink(fixture.api));
  });
  afterAll(async () => {
    await close();
    await closeSink();
  });
  return fixture;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates a dataset of these item URLs, uploads it to the signed URL and waits until it is Uploaded. */
export async function uploadDataset(api: Api, urls: string[], name = 'test-dataset') {
  const file = ndjson(urls);
  const created = await api.call('POST', '/batch/datasets', {
    name,
    spec: { source: { kind: 'UploadedNewlineDelimitedJsonFile', sizeBytes: file.length, crc32c: crc32cBase64(file) } },
  });
  if (created.status !== 200) throw new Error(`dataset create: ${created.status} ${JSON.stringify(created.body)}`);
  const { uploadUrl } = created.body.status.source;
  const put = await fetch(uploadUrl.url, { method: 'PUT', headers: uploadUrl.headers, body: file });
  if (put.status !== 200) throw new Error(`upload: ${put.status} ${await put.text()}`);
  const id = created.body.id as string;
  return waitFor('dataset processed', async () => {
    const got = await api.call('GET', `/batch/datasets/${id}`);
    return got.body.status.overview === 'Uploading' || got.body.status.overview === 'Processing' ? undefined : got.body;
  });
}

export async function createWebhook(
  api: Api,
  endpoint: string,
  secret: string,
  retries = { maxRetries: 3, maxBackoffMs: 15000 },
) {
  const created = await api.call('POST', '/batch/webhooks', {
    name: 'test-webhook',
    spec: { endpoint, secret: { contents: secret }, retries },
  });
  if (created.status !== 200) throw new Error(`webhook create: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body;
}

/** For suites whose jobs need somewhere to deliver but never look at the deliveries. */
export async function startWebhookSink(api: Api) {
  const receiver = await startReceiver();
  const webhookId = (await createWebhook(api, receiver.url, newSecret())).id as string;
  return { webhookId, close: receiver.close };
}

export async function createJob(api: Api, datasetId: string, webhookId: string, deploymentId: string, extra = {}) {
  return api.call('POST', '/batch/jobs', {
    name: 'test-job',
    spec: {
      datasetId,
      deployment: { kind: 'ExistingDeployment', deploymentId },
      resultDelivery: { destinations: [{ kind: 'Webhook', webhookId }] },
      ...extra,
    },
  });
}

export async function waitForJob(api: Api, jobId: string, overviews = ['Reached', 'Failed'], timeoutMs = 20_000) {
  return waitFor(
    `job ${jobId} in ${overviews.join('/')}`,
    async () => {
      const got = await api.call('GET', `/batch/jobs/${jobId}`);
      return overviews.includes(got.body.status.overview) ? got.body : undefined;
    },
    timeoutMs,
  );
}

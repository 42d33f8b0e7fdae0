import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { type Receiver, startReceiver } from '../../src/receiver';
import { signDelivery } from '../../src/webhook-delivery/signature';
import { itemDelivery, newSecret, postSigned, readStored, tempDir } from './helpers';

const secret = newSecret();
const maxBodyBytes = 16 * 1024;
let receiver: Receiver;
let tmp: ReturnType<typeof tempDir>;
let outFile: string;

beforeAll(async () => {
  tmp = tempDir();
  outFile = join(tmp.dir, 'out.ndjson');
  const secretFile = join(tmp.dir, 'secret');
  writeFileSync(secretFile, `${secret}\n`);
  receiver = await startReceiver({ port: 0, secretFile, outFile, maxBodyBytes, toleranceSeconds: 300 });
});

afterAll(async () => {
  await receiver.close();
  tmp.remove();
});

const now = () => Math.floor(Date.now() / 1000);

/** Sends raw bytes so a request can lie about its length or keep a chunked body going. */
function rawHttp(port: number, head: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (error) =>
      chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(error),
    );
    socket.write(head);
    socket.write(body, () => undefined);
  });
}

/** A request line sent as written (HTTP clients refuse unparsable URLs), with an empty JSON body. */
async function rawRequestLine(line: string) {
  const head = `${line}\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n`;
  const text = await rawHttp(Number(new URL(receiver.url).port), head, Buffer.alloc(0));
  return { status: Number(text.split(' ')[1]), text };
}

// Every tuple has all four elements: jest hands a shorter row's missing argument over as `done`.
type Case = [name: string, send: () => Promise<{ status: number; text: string }>, expected: number, code: string];

/** The body of an answer: `text` is the whole response when the request was sent raw. */
function bodyOf(text: string): string {
  return text.startsWith('HTTP/') ? text.slice(text.indexOf('\r\n\r\n') + 4) : text;
}

const cases: Case[] = [
  ['unsigned', () => postSigned(receiver.url, itemDelivery()), 401, 'missing-headers'],
  [
    'signed with another secret (forged)',
    () => postSigned(receiver.url, itemDelivery(), { secret: newSecret() }),
    401,
    'bad-signature',
  ],
  [
    'body altered after signing',
    async () => {
      const delivery = itemDelivery();
      const headers = signDelivery(secret, delivery.deliveryId, now(), JSON.stringify(delivery));
      return postSigned(receiver.url, { ...delivery, predictions: [] }, { headers: { ...headers } });
    },
    401,
    'bad-signature',
  ],
  [
    'signature of another delivery id (header swapped)',
    async () => {
      const delivery = itemDelivery();
      const headers = signDelivery(secret, delivery.deliveryId, now(), JSON.stringify(delivery));
      return postSigned(receiver.url, delivery, { headers: { ...headers, 'webhook-id': 'dlv_other' } });
    },
    401,
    'bad-signature',
  ],
  [
    'stale timestamp (replay)',
    () => postSigned(receiver.url, itemDelivery(), { secret, timestampSeconds: now() - 301 }),
    401,
    'stale-timestamp',
  ],
  [
    'timestamp from the future',
    () => postSigned(receiver.url, itemDelivery(), { secret, timestampSeconds: now() + 600 }),
    401,
    'stale-timestamp',
  ],
  [
    'non-numeric timestamp',
    () => postSigned(receiver.url, itemDelivery(), { secret, headers: { 'webhook-timestamp': 'yesterday' } }),
    401,
    'bad-timestamp',
  ],
  [
    'signature without the v1 prefix',
    async () => {
      const delivery = itemDelivery();
      const headers = signDelivery(secret, delivery.deliveryId, now(), JSON.stringify(delivery));
      return postSigned(receiver.url, delivery, {
        headers: { ...headers, 'webhook-signature': headers['webhook-signature'].slice(3) },
      });
    },
    401,
    'bad-signature',
  ],
  [
    'declared body larger than the limit',
    () => postSigned(receiver.url, { ...itemDelivery(), pad: 'x'.repeat(maxBodyBytes) }, { secret }),
    413,
    'body-too-large',
  ],
  [
    'chunked body that grows past the limit',
    async () => {
      const chunk = Buffer.alloc(maxBodyBytes + 10, 0x20);
      const head =
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${chunk.length.toString(16)}\r\n`;
      const text = await rawHttp(Number(new URL(receiver.url).port), head, chunk);
      return { status: Number(text.split(' ')[1]), text };
    },
    413,
    'body-too-large',
  ],
  [
    'text/plain content type',
    () => postSigned(receiver.url, itemDelivery(), { secret, headers: { 'content-type': 'text/plain' } }),
    415,
    'unsupported-media-type',
  ],
  [
    'form content type',
    () =>
      postSigned(receiver.url, itemDelivery(), {
        secret,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    415,
    'unsupported-media-type',
  ],
  ['signed body that is not JSON', () => postSigned(receiver.url, '{"type":', { secret }), 400, 'invalid-json'],
  [
    'signed JSON of an unknown type',
    () => postSigned(receiver.url, { ...itemDelivery(), type: 'batch.job.finished' }, { secret }),
    400,
    'invalid-delivery',
  ],
  [
    'signed delivery missing predictions',
    () => postSigned(receiver.url, { ...itemDelivery(), predictions: undefined }, { secret }),
    400,
    'invalid-delivery',
  ],
  [
    'signed delivery with a confidence above 1',
    () =>
      postSigned(receiver.url, itemDelivery({ predictions: [{ label: 'cat', confidence: 7, bbox: [0, 0, 1, 1] }] }), {
        secret,
      }),
    400,
    'invalid-delivery',
  ],
  [
    'signed body whose deliveryId differs from webhook-id',
    () => postSigned(receiver.url, itemDelivery(), { secret, deliveryId: 'dlv_not_the_body_one' }),
    400,
    'delivery-id-mismatch',
  ],
  ['GET on the delivery endpoint', () => postSigned(receiver.url, '', { method: 'GET' }), 405, 'method-not-allowed'],
  [
    'PUT on the delivery endpoint',
    () => postSigned(receiver.url, itemDelivery(), { secret, method: 'PUT' }),
    405,
    'method-not-allowed',
  ],
  [
    'POST to /healthz',
    () => postSigned(receiver.url, itemDelivery(), { secret, path: '/healthz' }),
    405,
    'method-not-allowed',
  ],
  [
    'unknown path',
    () => postSigned(receiver.url, itemDelivery(), { secret, path: '/webhooks/other' }),
    404,
    'not-found',
  ],
  ['unparsable URL (bad port in a //host path)', () => rawRequestLine('POST //x:99999/ HTTP/1.1'), 400, 'invalid-url'],
  ['unparsable absolute-form URL', () => rawRequestLine('GET http://x:99999/counts HTTP/1.1'), 400, 'invalid-url'],
  [
    'counts without a jobId',
    () => postSigned(receiver.url, '', { method: 'GET', path: '/counts' }),
    400,
    'missing-job-id',
  ],
];

describe('receiver rejects bad requests and stores nothing for them', () => {
  test.each(cases)('%s', async (_name, send, expected, code) => {
    const before = receiver.total;
    const { status, text } = await send();
    expect(status).toBe(expected);
    // Every rejection has the documented body, and nothing else: {"error":"<code>","message":"..."}.
    expect(JSON.parse(bodyOf(text))).toEqual({ error: code, message: expect.stringMatching(/\S/) });
    expect(receiver.total).toBe(before);
  });

  test.each([
    ['GET', '/', 'POST'],
    ['PUT', '/', 'POST'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/counts?jobId=j', 'GET, HEAD'],
  ] as const)('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const response = await request(`${receiver.url}${path}`, { method });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(await response.body.json()).toEqual({ error: 'method-not-allowed', message: `use ${allow}` });
  });

  test('rejected bodies never reach the file, accepted ones do, with the documented shape', async () => {
    const delivery = itemDelivery({ jobId: 'job_shape' });
    const accepted = await postSigned(receiver.url, delivery, {
      secret,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.text)).toEqual({ ok: true, duplicate: false });
    const again = await postSigned(receiver.url, delivery, { secret });
    expect(JSON.parse(again.text)).toEqual({ ok: true, duplicate: true });

    const stored = readStored(outFile);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toEqual({
      deliveryId: delivery.deliveryId,
      jobId: 'job_shape',
      datasetId: delivery.datasetId,
      item: delivery.item,
      predictions: delivery.predictions,
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(receiver.counts()).toEqual({ job_shape: 1 });
    const counts = await request(`${receiver.url}/counts?jobId=job_shape`);
    expect(await counts.body.json()).toEqual({ jobId: 'job_shape', predictions: 1 });
    const health = await request(`${receiver.url}/healthz`);
    expect(await health.body.json()).toEqual({ ok: true, predictions: 1 });
  });

  test('a webhook.test delivery is acknowledged with 204 and not stored', async () => {
    const before = receiver.total;
    const probe = {
      type: 'webhook.test',
      deliveryId: 'dlv_probe',
      projectId: 'proj_x',
      webhookId: 'wh_1',
      createTime: Date.now(),
    };
    const { status } = await postSigned(receiver.url, probe, { secret });
    expect(status).toBe(204);
    expect(receiver.total).toBe(before);
  });
});

// The real emulator delivers real jobs into the receiver: items come from a loopback image host,
// deliveries are signed by the emulator with the webhook's secret.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { type Receiver, startReceiver } from '../../src/receiver';
import { crashAllChildReceivers, startChildReceiver } from './child-receiver';
import { itemDelivery, postSigned, readStored, tempDir } from './helpers';
import { startItemHost } from './item-host';

let emulator: RunningEmulator;
let datatureApi: DatatureClient;
let itemHost: Awaited<ReturnType<typeof startItemHost>>;
let tmp: ReturnType<typeof tempDir>;

beforeAll(async () => {
  tmp = tempDir();
  itemHost = await startItemHost();
  // Backoff 1, 2, 4, 8, 16 s: only the kill -9 test's deliveries fail, and they must outlast a restart.
  emulator = await startEmulator({
    port: 0,
    tickIntervalMs: 10,
    concurrencyPerReplica: 8,
    deliveryBaseBackoffMs: 1000,
  });
  datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
});

afterAll(async () => {
  await crashAllChildReceivers();
  await emulator?.close();
  await itemHost?.close();
  tmp.remove();
});

async function runJob(name: string, itemCount: number, webhookId: string) {
  const items = Array.from({ length: itemCount }, (_, index) => ({
    kind: 'Image' as const,
    url: itemHost.itemUrl(index),
  }));
  const created = await datatureApi.datasets.create({ name, source: items });
  const dataset = await datatureApi.datasets.waitUntilDone(created.id, { intervalMs: 50, timeoutMs: 30_000 });
  const job = await datatureApi.jobs.create({
    name,
    datasetId: dataset.id,
    webhookIds: [webhookId],
    deploymentId: emulator.deploymentId,
  });
  return { job, items };
}

function expectEachItemOnce(outFile: string, jobId: string, items: { url: string }[]) {
  const stored = readStored(outFile).filter((line) => line.jobId === jobId);
  expect(stored).toHaveLength(items.length);
  expect(new Set(stored.map((line) => line.deliveryId)).size).toBe(items.length);
  expect(new Set(stored.map((line) => line.item.url))).toEqual(new Set(items.map((item) => item.url)));
}

test('a 1,000-item job: every prediction lands in the file exactly once', async () => {
  const secret = generateWebhookSecret();
  const secretFile = join(tmp.dir, 'secret-1000');
  writeFileSync(secretFile, secret);
  const outFile = join(tmp.dir, 'results-1000.ndjson');
  const receiver = await startReceiver({ port: 0, secretFile, outFile });
  try {
    const webhook = await datatureApi.webhooks.create({ name: 'receiver', endpoint: receiver.url, secret });
    const started = performance.now();
    const { job, items } = await runJob('thousand', 1000, webhook.id);
    const done = await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 100, timeoutMs: 90_000 });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `1,000 items through emulator -> receiver in ${seconds.toFixed(1)} s (${Math.round(1000 / seconds)} items/s)`,
    );

    expect(done.status.items.delivered).toBe(1000);
    expectEachItemOnce(outFile, job.id, items);
    expect(receiver.counts()).toEqual({ [job.id]: 1000 });
    const counts = await request(`${receiver.url}/counts?jobId=${job.id}`);
    expect(await counts.body.json()).toEqual({ jobId: job.id, predictions: 1000 });
  } finally {
    await receiver.close();
  }
});

test('receiver killed (kill -9) mid-job and restarted: the job completes, each prediction stored once', async () => {
  const secret = generateWebhookSecret();
  const secretFile = join(tmp.dir, 'secret-crash');
  writeFileSync(secretFile, secret);
  const outFile = join(tmp.dir, 'results-crash.ndjson');
  const first = await startChildReceiver({ port: 0, secretFile, outFile });
  // Retries span 1+2+4+8+16 s = 31 s: far longer than a restart of the receiver process, even on a loaded
  // machine (it was 0.25+0.5+1+2+4 s, a window a slow restart could miss).
  const webhook = await datatureApi.webhooks.create({
    name: 'crashing-receiver',
    endpoint: first.url,
    secret,
    retries: { maxRetries: 5, maxRetryDelay: 16_000 },
  });
  const { job, items } = await runJob('crash', 400, webhook.id);
  try {
    for (let stored = 0; stored < 100; await sleep(5)) {
      const response = await request(`${first.url}/counts?jobId=${job.id}`);
      stored = ((await response.body.json()) as { predictions: number }).predictions;
    }
    await first.crash();
    const storedAtCrash = readStored(outFile).length;
    expect(storedAtCrash).toBeLessThan(items.length);

    const second = await startChildReceiver({ port: first.port, secretFile, outFile });
    try {
      const done = await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 100, timeoutMs: 90_000 });
      expect(done.status.items.delivered).toBe(items.length);
      expect(done.status.items.failedDeliver).toBe(0);
      expectEachItemOnce(outFile, job.id, items);
    } finally {
      await second.crash();
    }
  } finally {
    await first.crash();
  }
});

describe('secret rotation with datatureApi.webhooks.updateSecret', () => {
  let receiver: Receiver;
  const graceSeconds = 2;
  const oldSecret = generateWebhookSecret();
  const newSecret = generateWebhookSecret();
  const secretFile = () => join(tmp.dir, 'secret-rotating');
  const outFile = () => join(tmp.dir, 'results-rotation.ndjson');

  beforeAll(async () => {
    writeFileSync(secretFile(), oldSecret);
    receiver = await startReceiver({ port: 0, secretFile: secretFile(), outFile: outFile(), graceSeconds });
  });
  afterAll(() => receiver.close());

  test('new secret accepted at once, old one during the grace period only', async () => {
    const webhook = await datatureApi.webhooks.create({ name: 'rotating', endpoint: receiver.url, secret: oldSecret });
    expect(await datatureApi.webhooks.test(webhook.id)).toMatchObject({ status: 'Ok', responseCode: 204 });

    await datatureApi.webhooks.updateSecret(webhook.id, newSecret);
    const rotatedAt = Date.now();
    writeFileSync(secretFile(), `${newSecret}\n`);

    // A delivery signed before the rotation (e.g. a retry in flight) still passes during the grace
    // period, which starts when the receiver sees the new file: at this very request, whatever the load.
    expect((await postSigned(receiver.url, itemDelivery(), { secret: oldSecret })).status).toBe(200);

    const { job, items } = await runJob('after-rotation', 50, webhook.id);
    const done = await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 100, timeoutMs: 60_000 });
    expect(done.status.items.delivered).toBe(50);
    expectEachItemOnce(outFile(), job.id, items);

    // The old secret is refused once the grace period is over, and not before: poll for the refusal.
    let late: Awaited<ReturnType<typeof postSigned>>;
    for (const deadline = Date.now() + graceSeconds * 1000 + 60_000; ; await sleep(100)) {
      late = await postSigned(receiver.url, itemDelivery(), { secret: oldSecret });
      if (late.status !== 200 || Date.now() > deadline) break;
    }
    expect(late.status).toBe(401);
    expect(late.text).toContain('bad-signature');
    expect(Date.now() - rotatedAt).toBeGreaterThanOrEqual(graceSeconds * 1000);
    expect((await postSigned(receiver.url, itemDelivery(), { secret: newSecret })).status).toBe(200);
    expect(await datatureApi.webhooks.test(webhook.id)).toMatchObject({ status: 'Ok', responseCode: 204 });
  });

  test('several explicit secrets are all accepted, others are not', async () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const explicit = await startReceiver({ port: 0, secrets: [a, b], outFile: join(tmp.dir, 'explicit.ndjson') });
    try {
      expect((await postSigned(explicit.url, itemDelivery(), { secret: a })).status).toBe(200);
      expect((await postSigned(explicit.url, itemDelivery(), { secret: b })).status).toBe(200);
      expect((await postSigned(explicit.url, itemDelivery(), { secret: generateWebhookSecret() })).status).toBe(401);
    } finally {
      await explicit.close();
    }
  });
});

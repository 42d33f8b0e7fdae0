// Every method of every resource against the real emulator (src/emulator) on loopback, with a loopback
// server playing both the image host the emulator gathers from and the webhook endpoint it delivers to.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DatasetItem,
  DatatureClient,
  generateWebhookSecret,
  itemsAccountedFor,
  type Job,
  type JobLogEntry,
  NotFoundError,
  PermissionDeniedError,
  type Webhook,
} from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { type LoopbackServer, startLoopbackServer } from './helpers/loopback-server';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);

let emulator: RunningEmulator;
let outside: LoopbackServer;
let datatureApi: DatatureClient;
let dir: string;

/** `/img/` answers an image at once, `/slow/` after SLOW_IMAGE_MS, `/missing/` a 404 (a failed gather). */
const items = (n: number, from = 0, dir = 'img'): DatasetItem[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'Image', url: `${outside.url}/${dir}/${from + i}.png` }));
const SLOW_IMAGE_MS = 400;

beforeAll(async () => {
  outside = await startLoopbackServer(async (req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/slow/')) await sleep(SLOW_IMAGE_MS);
    if (req.method === 'GET' && (req.url.startsWith('/img/') || req.url.startsWith('/slow/'))) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
      res.end(PNG);
    } else if (req.method === 'GET' && req.url.startsWith('/missing/')) {
      res.writeHead(404);
      res.end();
    } else {
      res.writeHead(204);
      res.end();
    }
  });
  emulator = await startEmulator({ port: 0, tickIntervalMs: 20, deliveryBaseBackoffMs: 10 });
  datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  dir = mkdtempSync(join(tmpdir(), 'api-client-emulator-'));
});

afterAll(async () => {
  await emulator?.close();
  await outside?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const value of iterable) all.push(value);
  return all;
}

describe('webhooks', () => {
  let webhook: Webhook;

  test('create, get, update (partial retries), updateSecret, test, delete', async () => {
    webhook = await datatureApi.webhooks.create({
      name: 'receiver',
      endpoint: `${outside.url}/hook`,
      secret: generateWebhookSecret(),
      retries: { maxRetries: 1, maxRetryDelay: 1000 },
    });
    expect(webhook.id).toMatch(/^webhook_/);
    expect(webhook.retries).toEqual({ maxRetries: 1, maxRetryDelay: 1000 });
    expect(webhook).not.toHaveProperty('secret');

    expect((await datatureApi.webhooks.get(webhook.id)).name).toBe('receiver');

    const updated = await datatureApi.webhooks.update(webhook.id, { retries: { maxRetries: 4 } });
    expect(updated.retries).toEqual({ maxRetries: 4, maxRetryDelay: 1000 });
    const moved = await datatureApi.webhooks.update(webhook.id, { endpoint: `${outside.url}/hook2` });
    expect(moved.endpoint).toBe(`${outside.url}/hook2`);

    expect((await datatureApi.webhooks.updateSecret(webhook.id, generateWebhookSecret())).id).toBe(webhook.id);

    const tested = await datatureApi.webhooks.test(webhook.id);
    expect(tested).toMatchObject({ status: 'Ok', responseCode: 204, attemptCount: 1 });
    expect(outside.requests.some((req) => req.method === 'POST' && req.url === '/hook2')).toBe(true);

    const temp = await datatureApi.webhooks.create({
      name: 'temp',
      endpoint: 'https://e.test/',
      secret: generateWebhookSecret(),
    });
    expect(temp.retries).toEqual({ maxRetries: 3, maxRetryDelay: 15000 });
    expect(await datatureApi.webhooks.delete(temp.id)).toEqual({ id: temp.id, deleted: true });
    await expect(datatureApi.webhooks.get(temp.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  test('list follows cursors across pages; listPage returns one page with cursors', async () => {
    for (let i = 0; i < 4; i++) {
      await datatureApi.webhooks.create({
        name: `page-${i}`,
        endpoint: 'https://e.test/',
        secret: generateWebhookSecret(),
      });
    }
    const all = await collect(datatureApi.webhooks.list({ limit: 2 }));
    expect(all.map((w) => w.name)).toEqual(expect.arrayContaining(['receiver', 'page-0', 'page-3']));
    expect(new Set(all.map((w) => w.id)).size).toBe(all.length);
    expect(all.length).toBe((await collect(datatureApi.webhooks.list())).length);

    const first = await datatureApi.webhooks.listPage({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.nextPage).toEqual(expect.any(String));
    expect(first.prevPage).toBeNull();
    const second = await datatureApi.webhooks.listPage({ page: first.nextPage!, limit: 2 });
    expect(second.data[0].id).not.toBe(first.data[0].id);
    expect(second.prevPage).toEqual(expect.any(String));
  });

  test('a wrong secret key is a PermissionDeniedError (emulator: 403) that does not show the key', async () => {
    const wrong = new DatatureClient({
      secretKey: 'not-the-key',
      projectId: emulator.projectId,
      baseUrl: emulator.url,
    });
    const err = await wrong.webhooks.listPage().catch((e: Error) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(JSON.stringify(err) + String(err)).not.toContain('not-the-key');
  });
});

describe('datasets', () => {
  test('create from a file streams the upload with progress, then waitUntilDone reaches Uploaded', async () => {
    const file = join(dir, 'items.ndjson');
    writeFileSync(
      file,
      items(20)
        .map((item) => JSON.stringify(item))
        .join('\r\n') + '\r\n',
    );
    const progress: Array<[number, number]> = [];
    const created = await datatureApi.datasets.create(
      { name: 'from-file', source: file },
      { onUploadProgress: (sent, total) => progress.push([sent, total]) },
    );
    expect(created.status.source.kind).toBe('UploadedNewlineDelimitedJsonFile');
    const last = progress[progress.length - 1];
    expect(last[0]).toBe(last[1]);
    const done = await datatureApi.datasets.waitUntilDone(created.id, { intervalMs: 50, timeoutMs: 20_000 });
    expect(done.status).toMatchObject({ overview: 'Uploaded', itemCount: 20 });
  });

  test('create from in-memory items and from a stream factory; createRecord + upload separately', async () => {
    const fromItems = await datatureApi.datasets.create({ name: 'from-items', source: items(3) });
    const ndjson = Buffer.from(
      items(2)
        .map((item) => `${JSON.stringify(item)}\n`)
        .join(''),
    );
    const fromStream = await datatureApi.datasets.create({
      name: 'from-stream',
      source: () => Readable.from([ndjson]),
    });

    const record = await datatureApi.datasets.createRecord({
      name: 'two-steps',
      sizeBytes: ndjson.length,
      crc32c: (await import('../../src/datature-api')).crc32cBase64(ndjson),
    });
    expect(record.status.overview).toBe('Waiting');
    await datatureApi.datasets.upload(record.status.source.uploadUrl, () => Readable.from([ndjson]));

    for (const [dataset, count] of [
      [fromItems, 3],
      [fromStream, 2],
      [record, 2],
    ] as const) {
      const done = await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 50, timeoutMs: 20_000 });
      expect(done.status.itemCount).toBe(count);
    }
  });

  test('get, list, listPage, delete', async () => {
    const dataset = await datatureApi.datasets.create({ name: 'to-delete', source: items(1) });
    await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 50, timeoutMs: 20_000 });
    expect((await datatureApi.datasets.get(dataset.id)).name).toBe('to-delete');
    const all = await collect(datatureApi.datasets.list({ limit: 2 }));
    expect(all.map((d) => d.id)).toContain(dataset.id);
    expect((await datatureApi.datasets.listPage({ limit: 1 })).data).toHaveLength(1);
    expect(await datatureApi.datasets.delete(dataset.id)).toEqual({ id: dataset.id, deleted: true });
    await expect(datatureApi.datasets.get(dataset.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('jobs', () => {
  let webhookId: string;
  beforeAll(async () => {
    webhookId = (
      await datatureApi.webhooks.create({
        name: 'jobs-hook',
        endpoint: `${outside.url}/deliveries`,
        secret: generateWebhookSecret(),
      })
    ).id;
  });

  async function uploadedDataset(count: number) {
    const dataset = await datatureApi.datasets.create({ name: `items-${count}`, source: items(count) });
    return datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 50, timeoutMs: 30_000 });
  }

  test('create on an existing deployment, waitUntilDone, logs across more than 1000 entries', async () => {
    const dataset = await uploadedDataset(1105);
    const job = await datatureApi.jobs.create({
      name: 'big',
      datasetId: dataset.id,
      webhookIds: [webhookId],
      deploymentId: emulator.deploymentId,
    });
    expect(job.spec.deployment).toEqual({ kind: 'ExistingDeployment', deploymentId: emulator.deploymentId });
    expect(job.spec.resultDelivery.destinations).toEqual([{ kind: 'Webhook', webhookId }]);

    const done = await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 100, timeoutMs: 90_000 });
    expect(done.status.items.delivered).toBe(1105);

    const page = await datatureApi.jobs.logs(job.id, { maxEntries: 1000 });
    expect(page.entries).toHaveLength(1000);
    const all: JobLogEntry[] = await collect(datatureApi.jobs.allLogs(job.id));
    expect(all).toHaveLength(1105);
    expect(new Set(all.map((entry) => entry.id)).size).toBe(1105);
    expect(new Set(all.map((entry) => entry.item)).size).toBe(1105);
    for (let i = 1; i < all.length; i++) expect(all[i].createTime).toBeLessThanOrEqual(all[i - 1].createTime);

    const capped = await collect(datatureApi.jobs.allLogs(job.id, { maxEntries: 1001 }));
    expect(capped.map((e) => e.id)).toEqual(all.slice(0, 1001).map((e) => e.id));
  }, 120_000);

  /** What waitUntilDone returned, checked against the job as it ends (the emulator's own end: Reached). */
  async function expectWaitEndsWithTheJob(client: DatatureClient, job: Job, itemCount: number) {
    const done = await client.jobs.waitUntilDone(job.id, { intervalMs: 20, timeoutMs: 60_000 });
    const { items } = done.status;
    expect(itemsAccountedFor(items)).toBe(itemCount);
    // Each failed item is in its stage's counter and in FailedDeliver, never delivered.
    expect(items.delivered + items.failedDeliver).toBe(itemCount);
    let ended = done;
    while (ended.status.overview !== 'Reached') ended = await client.jobs.get(job.id);
    expect(ended.status.items).toEqual(items);
    return items;
  }

  test('waitUntilDone with failed gathers waits for the items still in flight', async () => {
    // 4 gathers fail at once (404) while 4 slow items are still being fetched: counting the failures twice
    // (FailedGather + FailedDeliver) would make 8 of 8 and end the wait with nothing delivered.
    const dataset = await datatureApi.datasets.create({
      name: 'some-fail',
      source: [...items(4, 0, 'missing'), ...items(4, 0, 'slow')],
    });
    await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 50, timeoutMs: 30_000 });
    const job = await datatureApi.jobs.create({
      name: 'some-fail',
      datasetId: dataset.id,
      webhookIds: [webhookId],
      deploymentId: emulator.deploymentId,
    });
    const counters = await expectWaitEndsWithTheJob(datatureApi, job, 8);
    expect(counters).toMatchObject({ delivered: 4, failedGather: 4, failedDeliver: 4, failedPredict: 0 });
  }, 60_000);

  test('waitUntilDone with injected prediction failures (emulator faults) waits for every item', async () => {
    // 4 items at a time, every prediction failing: after 2 of 3 rounds, FailedPredict + FailedDeliver = 16 >= 12.
    const faulty = await startEmulator({
      port: 0,
      tickIntervalMs: 20,
      concurrencyPerReplica: 1,
      faults: { predict: { failRate: 1 } },
    });
    try {
      const client = new DatatureClient({
        secretKey: faulty.secretKey,
        projectId: faulty.projectId,
        baseUrl: faulty.url,
      });
      const hook = await client.webhooks.create({
        name: 'faulty-hook',
        endpoint: `${outside.url}/deliveries`,
        secret: generateWebhookSecret(),
      });
      const dataset = await client.datasets.create({ name: 'all-fail', source: items(12, 0, 'slow') });
      await client.datasets.waitUntilDone(dataset.id, { intervalMs: 50, timeoutMs: 30_000 });
      const job = await client.jobs.create({
        name: 'all-fail',
        datasetId: dataset.id,
        webhookIds: [hook.id],
        deploymentId: faulty.deploymentId,
      });
      const counters = await expectWaitEndsWithTheJob(client, job, 12);
      expect(counters).toMatchObject({ delivered: 0, predicted: 0, failedPredict: 12, failedDeliver: 12 });
    } finally {
      await faulty.close();
    }
  }, 60_000);

  test('an ephemeral deployment from an artifact; cancel a scheduled job; get, list, listPage, delete', async () => {
    const dataset = await uploadedDataset(2);
    const job = await datatureApi.jobs.create({
      name: 'later',
      datasetId: dataset.id,
      webhookIds: [webhookId],
      artifactId: 'artifact_65a7678a91afa7d22455c5ba',
      deploymentTemplate: { replicas: 2, instanceId: 'instance_x1cpu-standard' },
      startAtTime: Date.now() + 60 * 60 * 1000,
    });
    expect(job.spec.deployment).toMatchObject({
      kind: 'NewEphemeralDeployment',
      template: { artifactId: 'artifact_65a7678a91afa7d22455c5ba', replicas: 2 },
    });
    expect(job.status.overview).toBe('Waiting');

    const cancelled = await datatureApi.jobs.cancel(job.id);
    expect(cancelled.status.cancelledAt).toEqual(expect.any(Number));
    expect(cancelled.spec.stopAtTime).toBeLessThanOrEqual(Date.now());

    expect((await datatureApi.jobs.get(job.id)).id).toBe(job.id);
    expect((await collect(datatureApi.jobs.list({ limit: 1 }))).map((j) => j.id)).toContain(job.id);
    expect((await datatureApi.jobs.listPage({ limit: 1 })).data).toHaveLength(1);
    expect(await datatureApi.jobs.delete(job.id)).toEqual({ id: job.id, deleted: true });
    await expect(datatureApi.jobs.get(job.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

import { crc32cBase64 } from '../../src/datature-api/crc32c';
import { DEV_PROJECT_ID, DEV_SECRET_KEY } from '../../src/emulator';
import {
  createJob,
  createWebhook,
  ndjson,
  newSecret,
  startReceiver,
  uploadDataset,
  useEmulatorFixture,
  verify,
  waitFor,
  waitForJob,
} from './helpers';

const ERRORED_DEPLOYMENT = 'deploy_00000000-0000-4000-8000-00000000dead';
const HOUR = 3_600_000;

describe('emulator state machines', () => {
  const fixture = useEmulatorFixture({
    adminRoutes: true,
    tickIntervalMs: 20,
    deliveryBaseBackoffMs: 30,
    projects: [
      {
        id: DEV_PROJECT_ID,
        secretKey: DEV_SECRET_KEY,
        deployments: [
          { id: 'deploy_00000000-0000-4000-8000-000000000001', replicas: 2 },
          { id: ERRORED_DEPLOYMENT, replicas: 1, overview: 'Errored' },
        ],
      },
    ],
  });
  afterEach(() => fixture.api.call('POST', '/_emulator/clock', { offsetMs: 0 }));

  async function createDataset(file: Buffer) {
    const created = await fixture.api.call('POST', '/batch/datasets', {
      name: 'd',
      spec: {
        source: { kind: 'UploadedNewlineDelimitedJsonFile', sizeBytes: file.length, crc32c: crc32cBase64(file) },
      },
    });
    return created.body;
  }

  it('guards the signed upload URL like GCS and moves Waiting -> Processing -> Uploaded', async () => {
    const file = ndjson([`${fixture.images.url}/img/1.png`, `${fixture.images.url}/img/2.png`]);
    const dataset = await createDataset(file);
    const { uploadUrl } = dataset.status.source;
    expect(dataset.status.overview).toBe('Waiting');
    expect(uploadUrl).toMatchObject({ method: 'PUT', expiresAtTime: dataset.createDate + 12 * HOUR });
    expect(uploadUrl.headers).toMatchObject({
      'content-type': 'application/x-ndjson',
      'content-length': String(file.length),
      'x-goog-hash': `crc32c=${crc32cBase64(file)}`,
    });
    expect(dataset.expiryTime).toBe(dataset.createDate + 240 * HOUR);
    const put = (url: string, body: Buffer, headers = uploadUrl.headers) =>
      fetch(url, { method: 'PUT', headers, body }).then(async (response) => ({
        status: response.status,
        text: await response.text(),
      }));
    const forged = uploadUrl.url.replace(/.$/, (last: string) => (last === '0' ? '1' : '0'));
    expect(await put(forged, file)).toMatchObject({
      status: 403,
      text: expect.stringContaining('SignatureDoesNotMatch'),
    });
    const corrupted = Buffer.from(file);
    corrupted[5] ^= 1;
    expect(await put(uploadUrl.url, corrupted)).toMatchObject({
      status: 400,
      text: expect.stringContaining('BadDigest'),
    });
    const shorter = file.subarray(1);
    expect(
      await put(uploadUrl.url, shorter, { ...uploadUrl.headers, 'content-length': String(shorter.length) }),
    ).toMatchObject({
      status: 403,
    });
    await fixture.api.call('POST', '/_emulator/clock', { offsetMs: 13 * HOUR });
    expect(await put(uploadUrl.url, file)).toMatchObject({
      status: 400,
      text: expect.stringContaining('ExpiredToken'),
    });
    await fixture.api.call('POST', '/_emulator/clock', { offsetMs: 0 });
    expect(await put(uploadUrl.url, file)).toMatchObject({ status: 200 });
    expect(await put(uploadUrl.url, file)).toMatchObject({
      status: 412,
      text: expect.stringContaining('PreconditionFailed'),
    });
    const done = await waitFor('uploaded', async () => {
      const got = await fixture.api.call('GET', `/batch/datasets/${dataset.id}`);
      return got.body.status.overview === 'Uploaded' ? got.body : undefined;
    });
    expect(done.status.itemCount).toBe(2);
  });

  it('fails processing with a message naming the first bad line', async () => {
    const file = Buffer.from(
      `${JSON.stringify({ kind: 'Image', url: 'http://a/1.png' })}\n{"kind":"Video","url":"http://a/2.mp4"}\nnot json\n`,
    );
    const dataset = await createDataset(file);
    const { uploadUrl } = dataset.status.source;
    await fetch(uploadUrl.url, { method: 'PUT', headers: uploadUrl.headers, body: file });
    const failed = await waitFor('processing failed', async () => {
      const got = await fixture.api.call('GET', `/batch/datasets/${dataset.id}`);
      return got.body.status.overview === 'FailedProcessing' ? got.body : undefined;
    });
    expect(failed.status.message).toMatch(/^line 2: kind must be "Image"/);
    expect(failed.status.itemCount).toBe(0);
  });

  it('keeps a job Waiting until startAtTime, then runs it to Reached', async () => {
    const receiver = await startReceiver();
    try {
      const webhook = await createWebhook(fixture.api, receiver.url, newSecret());
      const dataset = await uploadDataset(fixture.api, [`${fixture.images.url}/img/1.png`]);
      const startAtTime = Date.now() + 2 * HOUR;
      const job = (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId, { startAtTime }))
        .body;
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect((await fixture.api.call('GET', `/batch/jobs/${job.id}`)).body.status).toMatchObject({
        overview: 'Waiting',
        message: 'Waiting',
      });
      await fixture.api.call('POST', '/_emulator/clock', { offsetMs: 2 * HOUR + 1000 });
      const done = await waitForJob(fixture.api, job.id);
      expect(done.status).toMatchObject({ overview: 'Reached', message: 'Finished', items: { Delivered: 1 } });
    } finally {
      await receiver.close();
    }
  });

  it('cancels a running job: no new items, in-flight ones finish, Reached with cancelledAt', async () => {
    const receiver = await startReceiver();
    try {
      await fixture.api.call('POST', '/_emulator/faults', { gather: { latencyMs: 100 } });
      const webhook = await createWebhook(fixture.api, receiver.url, newSecret());
      const dataset = await uploadDataset(
        fixture.api,
        Array.from({ length: 100 }, (_, i) => `${fixture.images.url}/img/${i}.png`),
      );
      const job = (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body;
      // Running = items flow; the overview still says Waiting (the default runningJobOverview).
      await waitFor('running', async () => {
        const got = await fixture.api.call('GET', `/batch/jobs/${job.id}`);
        return got.body.status.items.Gathered > 0 ? true : undefined;
      });
      const cancelled = await fixture.api.call('PATCH', `/batch/jobs/${job.id}`, { spec: { stopAtTime: Date.now() } });
      expect(cancelled.body.status.cancelledAt).toEqual(expect.any(Number));
      const done = await waitForJob(fixture.api, job.id);
      expect(done.status).toMatchObject({ overview: 'Reached', message: 'Cancelled' });
      const { items } = done.status;
      expect(items.Delivered + items.FailedDeliver).toBeLessThan(100);
      expect(items.Gathered).toBe(items.Delivered);
      expect((await fixture.api.call('PATCH', `/batch/jobs/${job.id}`, { spec: { stopAtTime: 1 } })).status).toBe(409);
      expect((await fixture.api.call('DELETE', `/batch/datasets/${dataset.id}`)).status).toBe(200);
    } finally {
      await fixture.api.call('DELETE', '/_emulator/faults');
      await receiver.close();
    }
  });

  it('fails a job whose deployment cannot serve', async () => {
    const webhook = await createWebhook(fixture.api, 'http://127.0.0.1:9/x', newSecret());
    const dataset = await uploadDataset(fixture.api, [`${fixture.images.url}/img/1.png`]);
    const job = (await createJob(fixture.api, dataset.id, webhook.id, ERRORED_DEPLOYMENT)).body;
    const done = await waitForJob(fixture.api, job.id);
    expect(done.status).toMatchObject({ overview: 'Failed', reason: expect.stringMatching(/cannot serve.*Errored/) });
  });

  it('retries a flaky webhook with the same delivery id and counts the item delivered once', async () => {
    const secret = newSecret();
    const receiver = await startReceiver((_delivery, index) => (index < 2 ? 500 : 200));
    try {
      const webhook = await createWebhook(fixture.api, receiver.url, secret, { maxRetries: 3, maxBackoffMs: 15000 });
      const dataset = await uploadDataset(fixture.api, [`${fixture.images.url}/img/7.png`]);
      const job = (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body;
      const done = await waitForJob(fixture.api, job.id);
      expect(done.status.items).toMatchObject({ Delivered: 1, FailedDeliver: 0 });
      expect(receiver.received).toHaveLength(3);
      const ids = receiver.received.map((delivery) => delivery.headers['webhook-id']);
      expect(new Set(ids).size).toBe(1);
      for (const delivery of receiver.received) expect(verify(secret, delivery)).toMatchObject({ ok: true });
      const logs = (await fixture.api.call('GET', `/batch/jobs/${job.id}/logs`)).body.entries;
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({
        status: 'Delivered',
        level: 'Info',
        reason: expect.stringMatching(/attempt 3 after HTTP 500, HTTP 500/),
      });
    } finally {
      await receiver.close();
    }
  });

  it('gives up after maxRetries and counts FailedDeliver with an Error log entry', async () => {
    const receiver = await startReceiver(() => 503);
    try {
      const webhook = await createWebhook(fixture.api, receiver.url, newSecret(), { maxRetries: 1, maxBackoffMs: 0 });
      const dataset = await uploadDataset(fixture.api, [`${fixture.images.url}/img/8.png`]);
      const job = (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body;
      const done = await waitForJob(fixture.api, job.id);
      expect(done.status.items).toMatchObject({ Predicted: 1, Delivered: 0, FailedDeliver: 1 });
      expect(receiver.received).toHaveLength(2);
      const [entry] = (await fixture.api.call('GET', `/batch/jobs/${job.id}/logs?minLevel=Error`)).body.entries;
      expect(entry).toMatchObject({
        status: 'FailedDeliver',
        level: 'Error',
        reason: expect.stringMatching(/2 attempts failed/),
      });
    } finally {
      await receiver.close();
    }
  });
  it('signs deliveries with real wall-clock time while its own clock is shifted days ahead', async () => {
    const secret = newSecret();
    const receiver = await startReceiver();
    try {
      const webhook = await createWebhook(fixture.api, receiver.url, secret);
      const dataset = await uploadDataset(fixture.api, [
        `${fixture.images.url}/img/7.png`,
        `${fixture.images.url}/img/8.png`,
      ]);
      const shift = 3 * 24 * HOUR;
      const clock = await fixture.api.call('POST', '/_emulator/clock', { offsetMs: shift });
      expect(clock.body.offsetMs).toBe(shift);
      const before = Math.floor(Date.now() / 1000);
      const job = (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body;
      await waitForJob(fixture.api, job.id);
      const tested = await fixture.api.call('POST', `/batch/webhooks/${webhook.id}:test`, {});
      expect(tested.body.status).toBe('Ok');
      const after = Math.floor(Date.now() / 1000);

      expect(receiver.received).toHaveLength(3); // two items and the test delivery
      for (const delivery of receiver.received) {
        const timestamp = Number(delivery.headers['webhook-timestamp']);
        // Real time: between the test's own readings of the wall clock, not 3 days on.
        expect(timestamp).toBeGreaterThanOrEqual(before);
        expect(timestamp).toBeLessThanOrEqual(after);
        expect(verify(secret, delivery)).toMatchObject({ ok: true });
      }
      // ...while what the emulator timestamps itself is on its shifted clock.
      const itemDeliveries = receiver.received.filter((delivery) => delivery.json.type === 'batch.item.predicted');
      expect(itemDeliveries).toHaveLength(2);
      for (const delivery of itemDeliveries) {
        expect(delivery.json.createTime).toBeGreaterThanOrEqual(before * 1000 + shift);
      }
    } finally {
      await receiver.close();
    }
  });
});

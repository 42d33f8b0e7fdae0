import { startEmulator } from '../../src/emulator';
import {
  apiClient,
  createJob,
  createWebhook,
  newSecret,
  startEmulatorFixture,
  startReceiver,
  uploadDataset,
  useEmulatorFixture,
  waitFor,
  waitForJob,
} from './helpers';

describe('emulator fault injection', () => {
  const fixture = useEmulatorFixture({
    adminRoutes: true,
    tickIntervalMs: 20,
    gatherTimeoutMs: 300,
  });
  afterEach(() => fixture.api.call('DELETE', '/_emulator/faults'));

  const setFaults = async (faults: object) => {
    const response = await fixture.api.call('POST', '/_emulator/faults', faults);
    expect(response.status).toBe(200);
  };

  it('answers the next N matching requests with 429 and Retry-After', async () => {
    await setFaults({
      routes: [{ method: 'GET', path: '/projects/*/batch/webhooks', status: 429, count: 2, retryAfterSeconds: 7 }],
    });
    const first = await fixture.api.call('GET', '/batch/webhooks');
    expect(first).toMatchObject({ status: 429, body: { message: expect.stringMatching(/injected/) } });
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await fixture.api.call('GET', '/batch/webhooks')).status).toBe(429);
    expect((await fixture.api.call('GET', '/batch/webhooks')).status).toBe(200);
    expect((await fixture.api.call('POST', '/batch/webhooks', {})).status).toBe(400);
  });

  it('injects 500 and 503 at a rate, and clears them', async () => {
    await setFaults({
      routes: [
        { method: 'POST', path: '/projects/**', status: 500, rate: 1 },
        { method: 'GET', path: '/projects/*/batch/datasets', status: 503 },
      ],
    });
    const failed = await fixture.api.call('POST', '/batch/webhooks', {});
    expect(failed.status).toBe(500);
    expect(failed.headers.get('retry-after')).toBeNull();
    const unavailable = await fixture.api.call('GET', '/batch/datasets');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('1');
    const state = await fixture.api.call('GET', '/_emulator/state');
    expect(state.body.faults.routes).toHaveLength(2);
    await fixture.api.call('DELETE', '/_emulator/faults');
    expect((await fixture.api.call('GET', '/batch/datasets')).status).toBe(200);
  });

  it('adds latency and drops connections', async () => {
    await setFaults({
      routes: [
        { path: '/projects/*/batch/jobs', latencyMs: 300, count: 1 },
        { path: '/projects/*/batch/datasets', drop: true },
      ],
    });
    const started = Date.now();
    expect((await fixture.api.call('GET', '/batch/jobs')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await expect(fixture.api.call('GET', '/batch/datasets')).rejects.toThrow();
  });

  it('holds a request until the fault set changes, and counts it as held meanwhile', async () => {
    await setFaults({ routes: [{ method: 'GET', path: '/projects/*/batch/jobs', hold: true, count: 1 }] });
    let answered = false;
    const held = fixture.api.call('GET', '/batch/jobs').then((response) => {
      answered = true;
      return response;
    });
    await waitFor('the request to be held', async () => {
      const faults = await fixture.api.call('GET', '/_emulator/faults');
      return faults.body.heldRequests === 1 ? true : undefined;
    });
    // Other requests are not held (the rule is spent), and the held one stays unanswered.
    expect((await fixture.api.call('GET', '/batch/jobs')).status).toBe(200);
    expect(answered).toBe(false);
    const released = await fixture.api.call('POST', '/_emulator/faults', {});
    expect(released.body.heldRequests).toBe(0);
    expect((await held).status).toBe(200);
  });

  it('holds item gathering until the fault set changes: a job stays mid-way as long as a test needs', async () => {
    // Its own emulator, with the default gather timeout: 40 items gathered at once just after the
    // release can take longer than the shared fixture's 300 ms on a loaded machine.
    const { emulator, images, api, close } = await startEmulatorFixture({ adminRoutes: true, tickIntervalMs: 20 });
    const receiver = await startReceiver();
    try {
      const webhook = await createWebhook(api, receiver.url, newSecret());
      const dataset = await uploadDataset(
        api,
        Array.from({ length: 40 }, (_, i) => `${images.url}/img/${i}.png`),
      );
      expect((await api.call('POST', '/_emulator/faults', { gather: { hold: true } })).status).toBe(200);
      const job = (await createJob(api, dataset.id, webhook.id, emulator.deploymentId)).body;
      // The default deployment's 4 replicas x 4 items are in flight, all held.
      await waitFor('the items in flight to be held', async () => {
        const faults = await api.call('GET', '/_emulator/faults');
        return faults.body.heldRequests === 16 ? true : undefined;
      });
      const mid = await api.call('GET', `/batch/jobs/${job.id}`);
      expect(mid.body.status.items).toMatchObject({ Gathered: 0, Delivered: 0 });
      await api.call('DELETE', '/_emulator/faults');
      const done = await waitForJob(api, job.id);
      expect(done.status.items).toMatchObject({ Gathered: 40, Delivered: 40 });
    } finally {
      await receiver.close();
      await close();
    }
  });

  it('slows item gathering past the gather timeout and fails predictions', async () => {
    const receiver = await startReceiver();
    try {
      const webhook = await createWebhook(fixture.api, receiver.url, newSecret());
      const dataset = await uploadDataset(
        fixture.api,
        Array.from({ length: 6 }, (_, i) => `${fixture.images.url}/img/${i}.png`),
      );
      await setFaults({ gather: { latencyMs: 1000 } });
      const slow = await waitForJob(
        fixture.api,
        (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body.id,
      );
      expect(slow.status.items).toMatchObject({ FailedGather: 6, FailedDeliver: 6, Delivered: 0 });
      const [entry] = (await fixture.api.call('GET', `/batch/jobs/${slow.id}/logs?maxEntries=1`)).body.entries;
      expect(entry).toMatchObject({
        status: 'FailedGather',
        level: 'Error',
        reason: expect.stringMatching(/timed out/),
      });

      await setFaults({ predict: { failRate: 1 } });
      const failing = await waitForJob(
        fixture.api,
        (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body.id,
      );
      expect(failing.status.items).toMatchObject({ Gathered: 6, Preprocessed: 6, FailedPredict: 6, Delivered: 0 });

      await setFaults({ gather: { failRate: 1 } });
      const gatherFails = await waitForJob(
        fixture.api,
        (await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId)).body.id,
      );
      expect(gatherFails.status.items).toMatchObject({ FailedGather: 6 });
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('flakyItems: the same seeded items fail their first attempts at a stage, then succeed; the receiver never sees a failed delivery', async () => {
    // Its own emulator, with a gather timeout a loaded machine cannot hit: only the injected failures count.
    const { emulator, images, api, close } = await startEmulatorFixture({ adminRoutes: true, tickIntervalMs: 20 });
    const setFaults = (faults: object) => api.call('POST', '/_emulator/faults', faults);
    const receiver = await startReceiver();
    try {
      const webhook = await createWebhook(api, receiver.url, newSecret());
      const urls = Array.from({ length: 40 }, (_, i) => `${images.url}/img/${i}.png`);
      const dataset = await uploadDataset(api, urls);
      const flaky = [
        { rate: 0.25, stages: ['gather'], failAttempts: 2, seed: 7 },
        { rate: 0.25, stages: ['deliver'], seed: 7 },
      ];
      const runJob = async () => {
        const job = await waitForJob(
          api,
          (await createJob(api, dataset.id, webhook.id, emulator.deploymentId)).body.id,
        );
        const { entries } = (await api.call('GET', `/batch/jobs/${job.id}/logs?maxEntries=1000`)).body as {
          entries: { item: string; status: string; reason: string }[];
        };
        const failed = (status: string) =>
          entries
            .filter((entry) => entry.status === status)
            .map((entry) => entry.item)
            .sort();
        return { items: job.status.items, gather: failed('FailedGather'), deliver: failed('FailedDeliver'), entries };
      };
      await setFaults({ flakyItems: flaky });
      const first = await runJob();
      expect(first.gather.length).toBeGreaterThan(0);
      expect(first.deliver.length).toBeGreaterThan(0);
      // Rules of one seed pick disjoint items.
      expect(first.gather.filter((url) => first.deliver.includes(url))).toEqual([]);
      expect(first.entries.find((entry) => entry.status === 'FailedGather')?.reason).toMatch(
        /injected flaky item \(attempt 1\)/,
      );
      expect(first.items).toMatchObject({
        FailedGather: first.gather.length,
        Delivered: 40 - first.gather.length - first.deliver.length,
      });
      expect(receiver.received).toHaveLength(40 - first.gather.length - first.deliver.length);

      // Second attempt: the gather items fail once more (failAttempts 2), the delivery ones go through.
      const second = await runJob();
      expect(second.gather).toEqual(first.gather);
      expect(second.deliver).toEqual([]);
      // Third: all delivered.
      const third = await runJob();
      expect(third.items).toMatchObject({ Delivered: 40, FailedDeliver: 0 });

      // Deterministic: the same fault set picks the same items again (attempts start over).
      await setFaults({ flakyItems: flaky });
      const again = await runJob();
      expect(again.gather).toEqual(first.gather);
      expect(again.deliver).toEqual(first.deliver);
    } finally {
      await receiver.close();
      await close();
    }
  });

  it('counts objects in /_emulator/state and rejects bad fault definitions', async () => {
    // Its own emulator: the counts do not depend on what the tests before it created.
    const fresh = await startEmulatorFixture({ adminRoutes: true, tickIntervalMs: 20 });
    const receiver = await startReceiver();
    try {
      const counted = fresh.api;
      expect((await counted.call('GET', '/_emulator/state')).body).toMatchObject({
        projects: 1,
        webhooks: 0,
        datasets: 0,
        jobs: 0,
        activeJobs: 0,
        logEntries: 0,
      });
      const webhook = await createWebhook(counted, receiver.url, newSecret());
      const dataset = await uploadDataset(
        counted,
        [0, 1, 2].map((i) => `${fresh.images.url}/img/${i}.png`),
      );
      const held = await createJob(counted, dataset.id, webhook.id, fresh.emulator.deploymentId, {
        startAtTime: Date.now() + 3_600_000,
      });
      const ran = await createJob(counted, dataset.id, webhook.id, fresh.emulator.deploymentId);
      await waitForJob(counted, ran.body.id);
      expect((await counted.call('GET', '/_emulator/state')).body).toMatchObject({
        projects: 1,
        webhooks: 1,
        datasets: 1,
        jobs: 2,
        activeJobs: 1, // the one waiting for its startAtTime
        logEntries: 3,
      });
      expect(held.status).toBeLessThan(300);
    } finally {
      await receiver.close();
      await fresh.close();
    }
    expect(
      await fixture.api.call('POST', '/_emulator/faults', { routes: [{ path: '/x', status: 418 }] }),
    ).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^routes\.0\.status: /) },
    });
  });

  it('takes initial faults as an option and hides admin routes unless enabled', async () => {
    const other = await startEmulator({ faults: { routes: [{ path: '/projects/**', status: 503, count: 1 }] } });
    try {
      const otherApi = apiClient(other.url, other.projectId, other.secretKey);
      expect((await otherApi.call('GET', '/batch/jobs')).status).toBe(503);
      expect((await otherApi.call('GET', '/batch/jobs')).status).toBe(200);
      expect((await otherApi.call('GET', '/_emulator/state')).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});

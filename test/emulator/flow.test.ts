import {
  createJob,
  createWebhook,
  newSecret,
  startReceiver,
  uploadDataset,
  useEmulatorFixture,
  verify,
  waitForJob,
} from './helpers';

describe('emulator item flow', () => {
  const fixture = useEmulatorFixture({
    adminRoutes: true,
    tickIntervalMs: 20,
    deliveryBaseBackoffMs: 20,
  });

  it('runs items through gather, preprocess, predict and deliver with signed deliveries', async () => {
    const secret = newSecret();
    const receiver = await startReceiver();
    try {
      const webhook = await createWebhook(fixture.api, receiver.url, secret);
      const urls = [
        ...Array.from({ length: 20 }, (_, i) => `${fixture.images.url}/img/${i}.png`),
        `${fixture.images.url}/missing/1.png`,
        `${fixture.images.url}/text/1.txt`,
      ];
      const dataset = await uploadDataset(fixture.api, urls);
      expect(dataset.status).toMatchObject({ overview: 'Uploaded', itemCount: 22, message: 'Uploaded Dataset' });
      const created = await createJob(fixture.api, dataset.id, webhook.id, fixture.emulator.deploymentId);
      expect(created.status).toBe(200);
      expect(created.body.status.overview).toMatch(/Waiting|Running/);
      const job = await waitForJob(fixture.api, created.body.id);
      expect(job.status).toMatchObject({ overview: 'Reached', message: 'Finished' });
      expect(job.status.items).toEqual({
        Gathered: 21,
        FailedGather: 1,
        Preprocessed: 20,
        FailedProcess: 1,
        Predicted: 20,
        FailedPredict: 0,
        Delivered: 20,
        FailedDeliver: 2,
      });
      expect(receiver.received).toHaveLength(20);
      for (const delivery of receiver.received) {
        expect(verify(secret, delivery)).toMatchObject({ ok: true });
        expect(delivery.json).toMatchObject({ type: 'batch.item.predicted', jobId: job.id, emulated: true });
      }
      expect(verify(newSecret(), receiver.received[0])).toMatchObject({ ok: false, reason: 'bad-signature' });
      const logs = await fixture.api.call('GET', `/batch/jobs/${job.id}/logs`);
      expect(logs.body.entries).toHaveLength(22);
      const statuses = logs.body.entries.map((entry: { status: string }) => entry.status).sort();
      expect(statuses.filter((status: string) => status === 'Delivered')).toHaveLength(20);
      expect(statuses).toContain('FailedGather');
      expect(statuses).toContain('FailedProcess');
      const times = logs.body.entries.map((entry: { createTime: number }) => entry.createTime);
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      for (const entry of logs.body.entries) expect(entry.id).toMatch(/^[0-9a-f]{24}$/);
    } finally {
      await receiver.close();
    }
  });
});

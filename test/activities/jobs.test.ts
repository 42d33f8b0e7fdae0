// The job activities against the real emulator: a start time that passed during the upload means "now",
// and cancelling a job that already ended answers its state instead of failing with the API's 409.
// MockActivityEnvironment only gives the activities their context, as a worker would.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import type { JobSnapshot } from '../../src/workflows/definitions';
import { type ImageServer, startImageServer, startReceiver } from '../emulator/helpers';

let emulator: RunningEmulator;
let images: ImageServer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let datatureApi: DatatureClient;
let datasetId: string;
let webhookId: string;

beforeAll(async () => {
  emulator = await startEmulator({ tickIntervalMs: 20 });
  images = await startImageServer();
  receiver = await startReceiver();
  datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  webhookId = (
    await datatureApi.webhooks.create({ name: 'sink', endpoint: receiver.url, secret: generateWebhookSecret() })
  ).id;
  const items = [1, 2].map((n) => ({ kind: 'Image' as const, url: `${images.url}/img/${n}.png` }));
  datasetId = (await datatureApi.datasets.create({ name: 'jobs-activities', source: items })).id;
  await datatureApi.datasets.waitUntilDone(datasetId, { intervalMs: 50 });
});

afterAll(async () => {
  await emulator?.close();
  await images?.close();
  await receiver?.close();
});

function activities() {
  return createActivities({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
    logsDir: '/tmp',
  });
}

test('a startAtTime already past when the job is created starts it now', async () => {
  const job = {
    deploymentId: emulator.deploymentId,
    webhookIds: [webhookId],
    startAtTime: new Date(Date.now() - 600_000).toISOString(),
  };
  const { jobId }: { jobId: string } = await new MockActivityEnvironment().run(activities().createJob, {
    name: 'late-start',
    datasetId,
    job,
  });
  const finished = await datatureApi.jobs.waitUntilDone(jobId, { intervalMs: 50 });
  expect(finished.status.items.delivered).toBe(2);
});

test('cancelling a job that already ended answers its state', async () => {
  const { jobId }: { jobId: string } = await new MockActivityEnvironment().run(activities().createJob, {
    name: 'ends-first',
    datasetId,
    job: { deploymentId: emulator.deploymentId, webhookIds: [webhookId] },
  });
  await datatureApi.jobs.waitUntilDone(jobId, { intervalMs: 50 });
  const snapshot: JobSnapshot = await new MockActivityEnvironment().run(activities().cancelJob, jobId);
  expect(snapshot).toMatchObject({ overview: 'Reached', cancelledAt: null });
  expect(snapshot.items.delivered).toBe(2);
});

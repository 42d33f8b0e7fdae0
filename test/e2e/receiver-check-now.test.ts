// The receiver tells the run its job is done: with `receiverUrl`, the run registers its job with the
// receiver, which signals `checkNow` once it holds every item's prediction. Real dev server, emulator,
// receiver and worker; the run's own polling is set far apart so only the signal can end it quickly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { generateWebhookSecret } from '../../src/datature-api';
import { type Receiver, type StoredPrediction, startReceiver } from '../../src/receiver';
import { checkNowNotifier, startBatchPrediction } from '../../src/run-client';
import { createWorker } from '../../src/worker';
import type { BatchPredictionResult } from '../../src/workflows/definitions';
import { executionStats } from '../workflows/history-stats';
import { type E2eStack, startE2eStack } from './harness';

const taskQueue = 'e2e-check-now';
let stack: E2eStack;
let worker: Worker;
let running: Promise<void>;
let receiver: Receiver;
let webhookId: string;
const notifier = checkNowNotifier(async () => ({ client: stack.env.client, close: async () => {} }));

beforeAll(async () => {
  stack = await startE2eStack();
  const secret = generateWebhookSecret();
  receiver = await startReceiver({
    port: 0,
    secrets: [secret],
    outFile: join(stack.dir, 'check-now-predictions.ndjson'),
    onJobComplete: notifier.onJobComplete,
  });
  webhookId = (await stack.datatureApi.webhooks.create({ name: 'check-now', endpoint: receiver.url, secret })).id;
  worker = await createWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace,
    taskQueue,
    datature: { secretKey: stack.emulator.secretKey, projectId: stack.emulator.projectId, baseUrl: stack.emulator.url },
    logsDir: join(stack.dir, 'logs'),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await receiver?.close();
  await stack?.close();
});

test('a run with a receiver notices its job end within a second of the last prediction, for one signal', async () => {
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: stack.writeDataset('check-now.ndjson', 20) },
      job: { deploymentId: stack.emulator.deploymentId, webhookIds: [webhookId] },
      // Without the signal, the first look would come a minute after the job starts.
      polling: { minIntervalMs: 60_000, maxIntervalMs: 3_600_000 },
      receiverUrl: receiver.url,
    },
    { taskQueue },
  );
  const result = (await handle.result()) as BatchPredictionResult;
  expect(result.outcome).toBe('completed');
  expect(result.receiver).toMatchObject({ predictions: 20, matchesDelivered: true });

  const stored = readFileSync(join(stack.dir, 'check-now-predictions.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StoredPrediction)
    .filter((prediction) => prediction.jobId === result.jobId);
  const lastStoredAt = Math.max(...stored.map((prediction) => Date.parse(prediction.receivedAt)));
  const noticedAt = Date.parse(result.timings['waiting-for-job']!.endedAt!);
  expect(noticedAt - lastStoredAt).toBeLessThan(1000);
  const stats = await executionStats(stack.env.client, handle.workflowId, handle.firstExecutionRunId);
  expect(stats.signals).toBe(1);
  expect(result.polls).toBe(1);
});

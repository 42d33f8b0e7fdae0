// A fault storm: 30 % of API calls answer 503, 429 or 500 and 30 % of uploads are dropped, while 20 runs
// go at once. Retries bounded by time (the outage budget), Retry-After as a floor under the backoff, and
// looks that wait out errors: every run completes, each with exactly one dataset and one job.
// Real dev server, emulator and worker.
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { startBatchPrediction } from '../../src/client';
import { createWorker } from '../../src/worker';
import { type E2eStack, startE2eStack } from './harness';

const taskQueue = 'e2e-fault-storm';
let stack: E2eStack;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  stack = await startE2eStack();
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
  await stack?.setFaults({});
  worker?.shutdown();
  await running;
  await stack?.close();
});

test('20 runs under 30 % API errors and 30 % dropped uploads all complete, without duplicates', async () => {
  const before = await stack.emulatorState();
  // The first matching rule applies, so the rates compound to 30 % of API calls: 10 % each.
  await stack.setFaults({
    routes: [
      { path: '/_uploads/**', drop: true, rate: 0.3 },
      { path: '/projects/**', status: 503, rate: 0.1 },
      { path: '/projects/**', status: 429, retryAfterSeconds: 1, rate: 0.1 / 0.9 },
      { path: '/projects/**', status: 500, rate: 0.1 / 0.8 },
    ],
  });
  const dataset = stack.writeDataset('storm.ndjson', 5);
  const handles = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      startBatchPrediction(
        stack.env.client,
        {
          dataset: { ndjsonPath: dataset },
          job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
          polling: { minIntervalMs: 1000, maxIntervalMs: 4000 },
          logs: { collect: true },
        },
        { taskQueue, workflowId: `storm-${i}` },
      ),
    ),
  );
  const outcomes = await Promise.all(
    handles.map((handle) =>
      handle.result().then(
        (result) => result.outcome,
        (error: Error) => `failed: ${error.message}`,
      ),
    ),
  );
  await stack.setFaults({});
  expect(outcomes).toEqual(Array(20).fill('completed'));
  const after = await stack.emulatorState();
  expect({ datasets: after.datasets - before.datasets, jobs: after.jobs - before.jobs }).toEqual({
    datasets: 20,
    jobs: 20,
  });
}, 300_000);

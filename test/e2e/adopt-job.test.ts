// The way back for an orphaned job: a run terminated in the Web UI leaves its Datature job running; a new
// run given `{ job: { jobId } }` (CLI `run --job`) waits for it, collects its logs and completes.
// Real dev server, emulator (its `gather: { hold: true }` fault keeps the job running) and worker.
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { getProgress, startBatchPrediction } from '../../src/client';
import { createWorker } from '../../src/worker';
import { type E2eStack, startE2eStack, untilPhase } from './harness';

const taskQueue = 'e2e-adopt';
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

test('a terminated run leaves its job running; a run adopting the job by id finishes it', async () => {
  await stack.setFaults({ gather: { hold: true } });
  const first = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: stack.writeDataset('adopt.ndjson', 12) },
      job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    },
    { taskQueue },
  );
  const { jobId } = await untilPhase(first, 'waiting-for-job');
  await first.terminate('operator pressed Terminate');
  expect((await first.describe()).status.name).toBe('TERMINATED');
  expect((await stack.nexus.jobs.get(jobId!)).status.overview).not.toMatch(/Reached|Failed/);
  const jobsBefore = (await stack.emulatorState()).jobs;

  const adopting = await startBatchPrediction(
    stack.env.client,
    { job: { jobId: jobId! }, logs: { collect: true }, polling: { minIntervalMs: 1000, maxIntervalMs: 2000 } },
    { taskQueue },
  );
  await untilPhase(adopting, 'waiting-for-job');
  expect((await getProgress(adopting)).itemCount).toBe(12);
  await stack.setFaults({});
  const result = await adopting.result();
  expect(result).toMatchObject({ outcome: 'completed', jobId, itemCount: 12 });
  expect(result.job?.items.delivered).toBe(12);
  expect(result.logs?.entries).toBe(12);
  // Nothing new was created on the API.
  expect((await stack.emulatorState()).jobs).toBe(jobsBefore);
});

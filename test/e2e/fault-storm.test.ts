// A fault storm: 30 % of API calls answer 503, 429 or 500 and 30 % of uploads are dropped, while 20 runs
// go at once. Retries bounded by time (the outage budget), Retry-After as a floor under the backoff, and
// looks that wait out errors: every run completes, each with exactly one dataset and one job.
// Real dev server, emulator and worker.
import { startBatchPrediction } from '../../src/run-client';
import { useStackWithWorker } from './harness';

const taskQueue = 'e2e-fault-storm';
const suite = useStackWithWorker(taskQueue);

test('20 runs under 30 % API errors and 30 % dropped uploads all complete, without duplicates', async () => {
  const before = await suite.stack.emulatorState();
  // The first matching rule applies, so the rates compound to 30 % of API calls: 10 % each.
  await suite.stack.setFaults({
    routes: [
      { path: '/_uploads/**', drop: true, rate: 0.3 },
      { path: '/projects/**', status: 503, rate: 0.1 },
      { path: '/projects/**', status: 429, retryAfterSeconds: 1, rate: 0.1 / 0.9 },
      { path: '/projects/**', status: 500, rate: 0.1 / 0.8 },
    ],
  });
  const dataset = suite.stack.writeDataset('storm.ndjson', 5);
  const handles = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      startBatchPrediction(
        suite.stack.env.client,
        {
          dataset: { ndjsonPath: dataset },
          job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
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
  await suite.stack.setFaults({});
  expect(outcomes).toEqual(Array(20).fill('completed'));
  const after = await suite.stack.emulatorState();
  expect({ datasets: after.datasets - before.datasets, jobs: after.jobs - before.jobs }).toEqual({
    datasets: 20,
    jobs: 20,
  });
}, 300_000);

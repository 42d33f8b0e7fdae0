// The way back for an orphaned job: a run terminated in the Web UI leaves its Datature job running; a new
// run given `{ job: { jobId } }` (CLI `run --job`) waits for it, collects its logs and completes.
// Real dev server, emulator (its `gather: { hold: true }` fault keeps the job running) and worker.
import { getProgress, startBatchPrediction } from '../../src/run-client';
import { untilPhase, useStackWithWorker } from './harness';

const taskQueue = 'e2e-adopt';
const suite = useStackWithWorker(taskQueue);

test('a terminated run leaves its job running; a run adopting the job by id finishes it', async () => {
  await suite.stack.setFaults({ gather: { hold: true } });
  const first = await startBatchPrediction(
    suite.stack.env.client,
    {
      dataset: { ndjsonPath: suite.stack.writeDataset('adopt.ndjson', 12) },
      job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    },
    { taskQueue },
  );
  const { jobId } = await untilPhase(first, 'waiting-for-job');
  await first.terminate('operator pressed Terminate');
  expect((await first.describe()).status.name).toBe('TERMINATED');
  expect((await suite.stack.datatureApi.jobs.get(jobId!)).status.overview).not.toMatch(/Reached|Failed/);
  const jobsBefore = (await suite.stack.emulatorState()).jobs;

  const adopting = await startBatchPrediction(
    suite.stack.env.client,
    { job: { jobId: jobId! }, logs: { collect: true }, polling: { minIntervalMs: 1000, maxIntervalMs: 2000 } },
    { taskQueue },
  );
  await untilPhase(adopting, 'waiting-for-job');
  expect((await getProgress(adopting)).itemCount).toBe(12);
  await suite.stack.setFaults({});
  const result = await adopting.result();
  expect(result).toMatchObject({ outcome: 'completed', jobId, itemCount: 12 });
  expect(result.job?.items.delivered).toBe(12);
  expect(result.logs?.entries).toBe(12);
  // Nothing new was created on the API.
  expect((await suite.stack.emulatorState()).jobs).toBe(jobsBefore);
});

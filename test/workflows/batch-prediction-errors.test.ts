// What a failed run says, for callers in any language: the root cause's message and a catalogue type, never
// "Activity task failed"; bad input refused before anything runs; the dataset wait's deadline and its
// continue-as-new. Time-skipping server + scripted API (see scripted-activities.ts).
import { randomUUID } from 'node:crypto';
import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { type ScriptedOptions, scriptedApi, scriptedInput } from './scripted-activities';
import { runScripted } from './scripted-run';
import { useTimeSkipping } from './time-skipping-env';

const HOUR = 3_600_000;
const suite = useTimeSkipping();

async function run(options: Omit<ScriptedOptions, 'client'>, input: unknown) {
  const api = scriptedApi({ ...options, client: suite.env.client });
  const { error, ...outcome } = await runScripted(suite, api, input);
  return { ...outcome, error: error as WorkflowFailedError | undefined, api };
}

test('an input of the wrong shape fails at once with InvalidInput naming every wrong field, running nothing', async () => {
  const { error, api, stats } = await run({ itemCount: 1, jobDurationMs: HOUR }, { dataset: {}, job: {} });
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = error!.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('InvalidInput');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toMatch(/^invalid batchPrediction input: /);
  expect(cause.message).toMatch(/dataset: /);
  expect(cause.message).toMatch(/job\.webhookIds: /);
  expect(api.calls).toEqual({});
  expect(stats.activityAttempts).toBe(0);
});

test('a stopAtTime already past is refused by the workflow itself (given in epoch ms, as older callers do)', async () => {
  const stopAtTime = 1_000 as unknown as string;
  const input = scriptedInput({ job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'], stopAtTime } });
  const { error, api } = await run({ itemCount: 1, jobDurationMs: HOUR }, input);
  const cause = error!.cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toMatch(/job\.stopAtTime: is in the past/);
  expect(api.calls).toEqual({});
});

test("an activity's failure reaches the caller as its own message and type, not 'Activity task failed'", async () => {
  const message = 'invalid NDJSON dataset (1 error):\nline 3: not valid JSON';
  const { error, api } = await run(
    { itemCount: 5, jobDurationMs: HOUR, validateSourceFails: { message, type: 'InvalidNdjson' } },
    scriptedInput(),
  );
  const cause = error!.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('InvalidNdjson');
  expect(cause.message).toBe(message);
  // The activity's own failure is kept underneath for whoever digs.
  expect(cause.cause).toBeInstanceOf(ActivityFailure);
  expect(api.calls.uploadDataset).toBeUndefined();
  expect(api.calls.createJob).toBeUndefined();
});

test('a dataset not Uploaded by limits.datasetReadyMs fails with DatasetFailed and is cleaned up', async () => {
  const { error, api } = await run(
    { itemCount: 10, jobDurationMs: HOUR, datasetProcessingMs: 3 * HOUR },
    scriptedInput({ limits: { datasetReadyMs: HOUR } }),
  );
  const cause = error!.cause as ApplicationFailure;
  expect(cause.type).toBe('DatasetFailed');
  expect(cause.message).toMatch(
    /dataset dataset_1 is still Processing 1\.0 h after its upload \(limits\.datasetReadyMs is 1\.0 h\)/,
  );
  expect(api.calls.createJob).toBeUndefined();
  expect(api.deletedDatasetNames).toHaveLength(1);
});

test('a long dataset wait continues as new and completes, uploading once', async () => {
  const { result, error, api, stats } = await run(
    { itemCount: 10, jobDurationMs: HOUR, datasetProcessingMs: 6 * HOUR },
    scriptedInput({ polling: { maxHistoryEvents: 40 } }),
  );
  expect(error).toBeUndefined();
  expect(result!.outcome).toBe('completed');
  expect(stats.runs).toBeGreaterThan(2);
  expect(api.calls.uploadDataset).toBe(1);
  expect(api.calls.createJob).toBe(1);
  // Continuing as new is not a failure: nothing was cleaned up on the way.
  expect(api.deletedDatasetNames).toEqual([]);
});

test('a job given by id is adopted: waited for and its logs collected, nothing uploaded or created', async () => {
  const options = { itemCount: 100, jobDurationMs: 2 * HOUR };
  const api = scriptedApi({ ...options, client: suite.env.client });
  // The job a terminated run (or the SDK) left behind, created an hour ago.
  const now = await suite.env.currentTimeMs();
  api.jobs.push({
    id: 'job_orphan',
    name: 'orphan',
    itemCount: 100,
    createdAt: now - HOUR,
    startAt: now - HOUR,
    durationMs: 2 * HOUR,
  });
  const taskQueue = `adopt-${randomUUID()}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.workflowBundle,
    activities: api.activities,
  });
  const result = await worker.runUntil(
    suite.env.client.workflow.execute('batchPrediction', {
      taskQueue,
      workflowId: `adopt-${randomUUID()}`,
      args: [{ job: { jobId: 'job_orphan' }, logs: { collect: true } }],
    }),
  );
  expect(result).toMatchObject({ outcome: 'completed', jobId: 'job_orphan', datasetId: 'dataset_1', itemCount: 100 });
  expect(result.job.items.delivered).toBe(100);
  expect(api.calls).toMatchObject({ describeJob: 1, collectLogs: 1 });
  expect(api.calls.validateSource).toBeUndefined();
  expect(api.calls.uploadDataset).toBeUndefined();
  expect(api.calls.createJob).toBeUndefined();
  // Half done after an hour: the estimate counts from the job's creation, so a handful of looks, not dozens.
  expect(api.calls.getJob).toBeLessThan(15);
});

test.each([
  [
    'a dataset besides the job to adopt',
    { dataset: { ndjsonPath: '/x.ndjson' }, job: { jobId: 'job_1' } },
    /dataset: not used with job\.jobId/,
  ],
  [
    'no dataset for a job to create',
    { job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'] } },
    /dataset: required unless job is \{jobId\}/,
  ],
  [
    'a job of neither shape',
    { dataset: { ndjsonPath: '/x.ndjson' }, job: { deploymentId: 'deploy_1' } },
    /job\.webhookIds: /,
  ],
])('%s is refused with InvalidInput', async (_label, input, message) => {
  const { error, api } = await run({ itemCount: 1, jobDurationMs: HOUR }, input);
  const cause = error!.cause as ApplicationFailure;
  expect(cause.type).toBe('InvalidInput');
  expect(cause.message).toMatch(message);
  expect(api.calls).toEqual({});
});

test('a job with failed items ends when delivered + failed reach the item count, reporting both', async () => {
  const { result, error } = await run({ itemCount: 100, jobDurationMs: HOUR, failEvery: 10 }, scriptedInput());
  expect(error).toBeUndefined();
  expect(result!.outcome).toBe('completed');
  expect(result!.job!.items).toMatchObject({ delivered: 90, failedPredict: 10, failedDeliver: 10 });
  // Seen ending at the end of the hour, not waiting for 100 deliveries that never come.
  const waiting = result!.timings['waiting-for-job']!;
  const waited = Date.parse(waiting.endedAt!) - Date.parse(waiting.startedAt);
  expect(waited).toBeLessThan(1.1 * HOUR);
});

test('a job the API ends Failed fails the run with JobFailed and its reason; the dataset is kept', async () => {
  const { error, api } = await run(
    { itemCount: 10, jobDurationMs: HOUR, jobFailsWith: 'deployment went away' },
    scriptedInput(),
  );
  const cause = error!.cause as ApplicationFailure;
  expect(cause.type).toBe('JobFailed');
  expect(cause.message).toBe('job job_1 failed: deployment went away');
  // The job existed: its dataset stays (it may be re-run), and the job had ended, so no way-back hint.
  expect(api.deletedDatasetNames).toEqual([]);
  expect(cause.message).not.toMatch(/run --job/);
});

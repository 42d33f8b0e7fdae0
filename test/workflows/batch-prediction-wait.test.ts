// The wait logic on the time-skipping test server, with scripted activities (see scripted-activities.ts:
// the Datature job is a fake whose counters follow the workflow clock, because a real multi-day job cannot
// run here). The workflow, timers, signals, queries, cancellation and continue-as-new are all real.
import { WorkflowFailedError } from '@temporalio/client';
import { type ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { BatchPredictionInput, BatchPredictionResult, BatchProgress } from '../../src/workflows/definitions';
import type { ExecutionStats } from './history-stats';
import { type ScriptedApi, scriptedApi, scriptedInput } from './scripted-activities';
import { runScripted } from './scripted-run';
import { useTimeSkipping } from './time-skipping-env';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const suite = useTimeSkipping();

function runPipeline(api: ScriptedApi, input: BatchPredictionInput, drive?: (workflowId: string) => Promise<void>) {
  return runScripted(suite, api, input, drive && ((handle) => drive(handle.workflowId)));
}

function report(label: string, polls: number, stats: ExecutionStats) {
  console.log(
    `${label}: ${polls} polls, ${stats.billableActions} billable actions (${stats.activityAttempts} activity attempts, ` +
      `${stats.timers} timers, ${stats.signals} signals, ${stats.searchAttributeUpserts} SA upserts), ` +
      `${stats.historyEvents} history events in ${stats.runs} run(s), largest run ${stats.largestRunEvents}`,
  );
}

/** From the job's last item to the end of the run's wait: how late the run saw the end. */
function detectionLagMs(result: BatchPredictionResult, jobEndMs: number): number {
  return Date.parse(result.timings['waiting-for-job']!.endedAt!) - jobEndMs;
}

test('a 2 hour job: at most 60 billable actions, the end seen within 3 % of the run time', async () => {
  const api = scriptedApi({ itemCount: 1000, jobDurationMs: 2 * HOUR, client: suite.env.client });
  const { result, error, stats } = await runPipeline(api, scriptedInput());
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ outcome: 'completed', jobId: 'job_1', itemCount: 1000 });
  expect(result!.job!.items.delivered).toBe(1000);
  report('2 h job', result!.polls, stats);
  expect(stats.billableActions).toBeLessThanOrEqual(60);
  expect(stats.historyEvents).toBeLessThan(400);
  // The phase search attribute changes once per phase, never per poll (+1: the patch marker's version).
  expect(stats.searchAttributeUpserts).toBeLessThanOrEqual(8);
  const jobEnd = api.jobs[0].startAt + 2 * HOUR;
  expect(detectionLagMs(result!, jobEnd)).toBeGreaterThanOrEqual(0);
  expect(detectionLagMs(result!, jobEnd)).toBeLessThanOrEqual(0.03 * 2 * HOUR);
  expect(api.calls.createJob).toBe(1);
});

test('the Web UI sees the wait: current details (phase, counters, percent, next look) and labelled timers', async () => {
  const api = scriptedApi({ itemCount: 1000, jobDurationMs: 2 * HOUR, client: suite.env.client });
  let details = '';
  const { result, error, workflowId } = await runPipeline(api, scriptedInput(), async (id) => {
    await suite.env.sleep(HOUR);
    // What the Web UI asks a running workflow for its "current details".
    const metadata = await suite.env.client.workflow
      .getHandle(id)
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    details = metadata.currentDetails ?? '';
  });
  expect(error).toBeUndefined();
  expect(details).toContain('**phase**: waiting-for-job');
  expect(details).toMatch(/\*\*job\*\*: job_1 \(Running\)/);
  expect(details).toMatch(/\*\*progress\*\*: \d+ of 1000 items \(\d+ %\): gathered \d+, .* delivered \d+; failed 0/);
  expect(details).toMatch(/\*\*next look\*\*: \d{4}-\d\d-\d\dT[\d:.]+Z \(in [\d.]+ (s|min|h); \d+ looks so far\)/);
  const history = await suite.env.client.workflow.getHandle(workflowId).fetchHistory();
  const summaries = (history.events ?? [])
    .map((event) => event.timerStartedEventAttributes && event.userMetadata?.summary)
    .filter((summary) => summary)
    .map((summary) => defaultPayloadConverter.fromPayload<string>(summary!));
  expect(summaries.length).toBe(result!.polls);
  expect(summaries.at(-1)).toMatch(/^waiting for job: \d+ % — next look in [\d.]+ (s|min|h)$/);
  // ISO-8601 times a person reads.
  expect(result!.timings['waiting-for-job']!.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('a 3 day job: at most 250 billable actions, sleeps up to 60 min, the end seen within 3 %', async () => {
  const api = scriptedApi({ itemCount: 50_000, jobDurationMs: 3 * DAY, client: suite.env.client });
  const { result, error, stats } = await runPipeline(api, scriptedInput());
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ outcome: 'completed', itemCount: 50_000 });
  report('3 day job', result!.polls, stats);
  expect(stats.billableActions).toBeLessThanOrEqual(250);
  expect(Math.max(...stats.timerDurationsMs)).toBeLessThanOrEqual(HOUR);
  expect(Math.max(...stats.timerDurationsMs)).toBeGreaterThan(30 * 60_000);
  expect(stats.largestRunEvents).toBeLessThan(2000);
  const jobEnd = api.jobs[0].startAt + 3 * DAY;
  expect(detectionLagMs(result!, jobEnd)).toBeGreaterThanOrEqual(0);
  expect(detectionLagMs(result!, jobEnd)).toBeLessThanOrEqual(0.03 * 3 * DAY);
}, 240_000);

test('a dataset processed for 2 hours is waited for; one never seen uploaded fails after 30 minutes', async () => {
  const slow = scriptedApi({
    itemCount: 10,
    jobDurationMs: HOUR,
    datasetProcessingMs: 2 * HOUR,
    client: suite.env.client,
  });
  const processed = await runPipeline(slow, scriptedInput());
  expect(processed.error).toBeUndefined();
  expect(processed.result?.outcome).toBe('completed');

  const lost = scriptedApi({ itemCount: 10, jobDurationMs: HOUR, uploadLost: true, client: suite.env.client });
  const { error } = await runPipeline(lost, scriptedInput());
  const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('DatasetUploadLost');
  expect(cause.message).toMatch(/still Waiting 30 min after its upload/);
  expect(lost.calls.createJob).toBeUndefined();
  // The failure cleanup removes the dataset no job will use.
  expect(lost.deletedDatasetNames).toHaveLength(1);

  const kept = scriptedApi({ itemCount: 10, jobDurationMs: HOUR, uploadLost: true, client: suite.env.client });
  await runPipeline(kept, scriptedInput({ cleanup: { deleteDatasetOnFailure: false } }));
  expect(kept.deletedDatasetNames).toHaveLength(0);
});

test('a startAtTime an hour ahead is waited with one timer before the first poll', async () => {
  const api = scriptedApi({ itemCount: 100, jobDurationMs: 10 * 60_000, client: suite.env.client });
  const startAtTime = new Date((await suite.env.currentTimeMs()) + HOUR).toISOString();
  const { result, error, stats } = await runPipeline(
    api,
    scriptedInput({ job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'], startAtTime } }),
  );
  expect(error).toBeUndefined();
  expect(result!.outcome).toBe('completed');
  // The first timer covers (almost) the whole hour; no poll happened before it.
  expect(stats.timerDurationsMs[0]).toBeGreaterThan(HOUR - 60_000);
  expect(stats.timerDurationsMs.filter((ms) => ms > 15 * 60_000)).toHaveLength(1);
  expect(Date.parse(result!.timings['waiting-for-job']!.startedAt)).toBeLessThan(Date.parse(startAtTime));
});

test('continue-as-new keeps ids, timings and counts across runs', async () => {
  const api = scriptedApi({ itemCount: 500, jobDurationMs: 6 * HOUR, client: suite.env.client });
  const { result, error, stats } = await runPipeline(api, scriptedInput({ polling: { maxHistoryEvents: 60 } }));
  expect(error).toBeUndefined();
  expect(result!.runs).toBeGreaterThan(2);
  expect(stats.runs).toBe(result!.runs);
  expect(stats.largestRunEvents).toBeLessThan(100);
  expect(result).toMatchObject({ outcome: 'completed', datasetId: 'dataset_1', jobId: 'job_1', itemCount: 500 });
  expect(result!.timings.uploading).toBeDefined();
  expect(api.calls.uploadDataset).toBe(1);
  expect(api.calls.createJob).toBe(1);
  expect(result!.polls).toBe(api.calls.getJob);
});

test('a cancel signal during the wait cancels the job, collects logs and ends the run as Canceled', async () => {
  const api = scriptedApi({ itemCount: 100, jobDurationMs: 10 * HOUR, client: suite.env.client });
  const { error, workflowId } = await runPipeline(api, scriptedInput(), async (id) => {
    const handle = suite.env.client.workflow.getHandle(id);
    // Let the job run a while (skipping time), then ask for the cancel like an operator would.
    await suite.env.sleep(HOUR);
    const progress = await handle.query<BatchProgress>('progress');
    expect(progress.phase).toBe('waiting-for-job');
    expect(progress.polls).toBeGreaterThan(0);
    await handle.signal('cancel', { reason: 'operator said stop' });
  });
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  const description = await suite.env.client.workflow.getHandle(workflowId).describe();
  expect(description.status.name).toBe('CANCELLED');
  expect(api.jobs[0].cancelledAt).toBeDefined();
  expect(api.calls).toMatchObject({ cancelJob: 1, collectLogs: 1, requestWorkflowCancellation: 1 });
  expect(api.calls.deleteDatasetsNamed).toBeUndefined();
});

// Cancellation in every phase, by the `cancel` signal and by handle.cancel(), on the time-skipping test
// server with scripted activities (scripted-activities.ts): the run is held in a phase (a blocked, heartbeating
// activity or a durable timer), cancelled, and the cleanup is checked against docs/pipeline.md: a job that
// exists is cancelled and its logs collected, no job is created once cancelled before it exists, the dataset
// this run uploaded is deleted (cleanup.deleteDatasetOnCancel), a given {datasetId} never is.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import {
  type BatchPhase,
  type BatchPredictionInput,
  type BatchProgress,
  describeCleanup,
} from '../../src/workflows/definitions';
import { datasetNameFor } from '../../src/workflows/resource-names';
import { type BlockableActivity, type ScriptedOptions, scriptedApi, scriptedInput } from './scripted-activities';
import { useTimeSkipping } from './time-skipping-env';

const HOUR = 3_600_000;

const suite = useTimeSkipping();

type Mechanism = 'cancel signal' | 'handle.cancel()';
const mechanisms: Mechanism[] = ['cancel signal', 'handle.cancel()'];
const SIGNAL_REASON = 'operator said stop';

interface PhaseCase {
  label: string;
  /** The phase the run is held in when the cancellation arrives. */
  phase: BatchPhase;
  /** How the run is held there: a blocked activity, or the scripted API keeps it in a timer. */
  blockIn?: BlockableActivity;
  scripted?: Partial<ScriptedOptions>;
  input?: Partial<BatchPredictionInput>;
  /** After the run: 'cancelled' = a running job got cancelledAt; 'finished' = it had already ended. */
  job: 'none' | 'cancelled' | 'finished';
  datasetDeleted: boolean;
}

const phaseCases: PhaseCase[] = [
  { label: 'validating', phase: 'validating', blockIn: 'validateSource', job: 'none', datasetDeleted: false },
  { label: 'uploading', phase: 'uploading', blockIn: 'uploadDataset', job: 'none', datasetDeleted: true },
  {
    label: 'waiting-for-dataset',
    phase: 'waiting-for-dataset',
    scripted: { datasetProcessingMs: 10 * HOUR },
    job: 'none',
    datasetDeleted: true,
  },
  { label: 'creating-job', phase: 'creating-job', blockIn: 'createJob', job: 'none', datasetDeleted: true },
  {
    label: 'creating-job, job created but its answer not yet back',
    phase: 'creating-job',
    blockIn: 'createJob',
    scripted: { blockAfterCreatingJob: true },
    job: 'cancelled',
    datasetDeleted: false,
  },
  { label: 'waiting-for-job', phase: 'waiting-for-job', job: 'cancelled', datasetDeleted: false },
  {
    label: 'collecting-logs',
    phase: 'collecting-logs',
    blockIn: 'collectLogs',
    // Done by the first poll, so no timer has to be skipped to reach the logs.
    scripted: { jobDurationMs: 1 },
    job: 'finished',
    datasetDeleted: false,
  },
  {
    label: 'waiting-for-job, the job ending just before the cancel reaches it',
    phase: 'waiting-for-job',
    scripted: { jobEndsBeforeCancel: true },
    job: 'finished',
    datasetDeleted: false,
  },
  // The cleanup policy's other branches.
  {
    label: 'uploading with deleteDatasetOnCancel: false',
    phase: 'uploading',
    blockIn: 'uploadDataset',
    input: { cleanup: { deleteDatasetOnCancel: false } },
    job: 'none',
    datasetDeleted: false,
  },
  {
    label: 'creating-job from an existing {datasetId}',
    phase: 'creating-job',
    blockIn: 'createJob',
    input: { dataset: { datasetId: 'dataset_existing' } },
    job: 'none',
    datasetDeleted: false,
  },
];

const cases = phaseCases.flatMap((phaseCase) => mechanisms.map((mechanism) => ({ ...phaseCase, mechanism })));

async function untilProgress(
  handle: WorkflowHandle,
  done: (progress: BatchProgress) => boolean,
  timeoutMs = 15_000,
): Promise<BatchProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await handle.query<BatchProgress>('progress').catch(() => undefined);
    if (progress && done(progress)) return progress;
    if (Date.now() > deadline) throw new Error(`progress still ${JSON.stringify(progress)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test.each(cases)(
  'cancelled in $label by $mechanism',
  async (testCase) => {
    const api = scriptedApi({
      itemCount: 100,
      jobDurationMs: 10 * HOUR,
      client: suite.env.client,
      blockIn: testCase.blockIn,
      ...testCase.scripted,
    });
    const taskQueue = `cancel-${randomUUID()}`;
    const worker = await Worker.create({
      connection: suite.env.nativeConnection,
      taskQueue,
      workflowBundle: suite.workflowBundle,
      activities: api.activities,
      // A blocked activity learns of its cancellation from a heartbeat answer: send heartbeats at once.
      maxHeartbeatThrottleInterval: '50 ms',
      defaultHeartbeatThrottleInterval: '50 ms',
    });
    const workflowId = `batch-cancel-${randomUUID()}`;
    const input = scriptedInput(testCase.input);

    await worker.runUntil(async () => {
      const handle = await suite.env.client.workflow.start('batchPrediction', { taskQueue, workflowId, args: [input] });
      if (testCase.blockIn) await api.blocked;
      let held = await untilProgress(handle, (progress) => progress.phase === testCase.phase);
      if (testCase.phase === 'waiting-for-job') {
        // The first look waits a few seconds of workflow time; a checkNow signal brings it forward.
        await handle.signal('checkNow', { from: 'test' });
        held = await untilProgress(handle, (progress) => progress.polls > 0);
      }
      expect(held.cancelReason).toBeUndefined();

      if (testCase.mechanism === 'cancel signal') await handle.signal('cancel', { reason: SIGNAL_REASON });
      else await handle.cancel();

      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');

      const progress = await handle.query<BatchProgress>('progress');
      expect(progress.phase).toBe('cancelled');
      expect(progress.cancelReason).toBe(
        testCase.mechanism === 'cancel signal' ? SIGNAL_REASON : 'workflow cancellation requested',
      );
      expect(progress.timings[testCase.phase]?.endedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(progress.timings.cancelling).toBeDefined();
      expect(progress.timings.cancelled).toBeDefined();
      // The run's page in the Web UI says what the cancel cleaned up.
      const { currentDetails } = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(currentDetails).toContain('**phase**: cancelled');
      expect(currentDetails).toContain(
        `**cleaned up** (${progress.cancelReason}): ${describeCleanup(progress.cleanup!)}`,
      );
      // Only the signal needs the workflow to ask the server for its own cancellation.
      expect(api.calls.requestWorkflowCancellation).toBe(testCase.mechanism === 'cancel signal' ? 1 : undefined);

      // The Datature job: cancelled iff it existed (and was still running); never created once cancelled before.
      if (testCase.job === 'none') {
        expect(api.jobs).toHaveLength(0);
        expect(progress.jobId).toBeUndefined();
        expect(api.calls.cancelJob).toBeUndefined();
        expect(api.calls.collectLogs).toBeUndefined();
        const createJobCalls = ['validating', 'uploading', 'waiting-for-dataset'].includes(testCase.phase)
          ? undefined
          : 1;
        expect(api.calls.createJob).toBe(createJobCalls);
      } else {
        expect(api.jobs).toHaveLength(1);
        expect(api.calls.createJob).toBe(1);
        expect(progress.jobId).toBe(api.jobs[0].id);
        expect(progress.job?.overview).toBe('Reached');
        if (testCase.job === 'cancelled') {
          expect(api.jobs[0].cancelledAt).toEqual(expect.any(Number));
          expect(progress.job?.cancelledAt).toBe(api.jobs[0].cancelledAt);
          expect(progress.job?.items.delivered).toBeLessThan(100);
        } else {
          // It had ended on its own: nothing to cancel, and that is no reason to fail the cleanup.
          expect(api.jobs[0].cancelledAt).toBeUndefined();
          expect(progress.job?.items.delivered).toBe(100);
        }
        // A job known to have ended is not cancelled again; one that ended unnoticed answers the cancel with a 409.
        expect(api.calls.cancelJob).toBe(testCase.phase === 'collecting-logs' ? undefined : 1);
        // The logs so far are collected (a second time when the first collection was the one cancelled).
        expect(api.calls.collectLogs).toBe(testCase.phase === 'collecting-logs' ? 2 : 1);
      }

      // The dataset this run uploaded, by its deterministic name; nothing else.
      expect(api.deletedDatasetNames).toEqual(
        testCase.datasetDeleted
          ? [datasetNameFor({ workflowId, firstExecutionRunId: handle.firstExecutionRunId })]
          : [],
      );
      if (testCase.phase === 'validating') expect(api.calls.uploadDataset).toBeUndefined();
    });
  },
  30_000,
);

// Cancellation in each phase, by the `cancel` signal and by handle.cancel(), on the real Temporal dev server and
// the emulator (the time-skipping twin with scripted activities is test/workflows/batch-prediction-cancel.test.ts).
// The run is held in a phase by the emulator's fault injection (one request, or the job's item downloads, held
// until the test releases them: no guessed latency), then cancelled; the cleanup is checked against
// docs/pipeline.md ("Cancellation: one path").
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { FaultSet } from '../../src/emulator/faults';
import {
  type BatchPredictionHandle,
  cancelBatchPrediction,
  getProgress,
  startBatchPrediction,
} from '../../src/run-client';
import { createWorker } from '../../src/worker';
import type { BatchPhase, BatchPredictionInput } from '../../src/workflows/definitions';
import { datasetNameFor, logFileNameFor } from '../../src/workflows/resource-names';
import { type E2eStack, startE2eStack, untilPhase } from './harness';

const taskQueue = 'e2e-cancel-each-phase';
/** More than the job's 16 items in flight (4 replicas x 4), so a cancelled job leaves some never started. */
const ITEMS = 20;
const SIGNAL_REASON = 'e2e says stop';

let stack: E2eStack;
let worker: Worker;
let running: Promise<void>;
let dataset: string;
let logsDir: string;

beforeAll(async () => {
  stack = await startE2eStack();
  logsDir = join(stack.dir, 'logs');
  worker = await createWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace,
    taskQueue,
    datature: { secretKey: stack.emulator.secretKey, projectId: stack.emulator.projectId, baseUrl: stack.emulator.url },
    logsDir,
  });
  running = worker.run();
  dataset = stack.writeDataset('items.ndjson', ITEMS);
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await stack?.close();
});

afterEach(async () => {
  await stack.setFaults({});
});

type Mechanism = 'cancel signal' | 'handle.cancel()';

const cancelBy: Record<Mechanism, (handle: BatchPredictionHandle) => Promise<void>> = {
  'cancel signal': (handle) => cancelBatchPrediction(handle, SIGNAL_REASON),
  'handle.cancel()': async (handle) => {
    await handle.cancel();
  },
};

interface PhaseCase {
  phase: BatchPhase;
  /** What holds the run in the phase (every route rule holds one request only, until released). */
  faults: FaultSet;
  /**
   * The job after the run: none created; 'cancelled' = it was running and got cancelledAt; 'finished' = it had
   * already ended, so it is left as it is.
   */
  job: 'none' | 'cancelled' | 'finished';
}

const phaseCases: PhaseCase[] = [
  // The upload's cancellation waits for the activity (WAIT_CANCELLATION_COMPLETED), i.e. for the held PUT here:
  // the cancel reaches an activity only on a heartbeat, and the SDK throttles them. The upload then lands and
  // the cleanup deletes the dataset.
  { phase: 'uploading', faults: { routes: [{ path: '/_uploads/**', hold: true, count: 1 }] }, job: 'none' },
  {
    phase: 'waiting-for-dataset',
    faults: { routes: [{ method: 'GET', path: '/projects/*/batch/datasets/*', hold: true, count: 1 }] },
    job: 'none',
  },
  {
    // createJob does not heartbeat, so the cancellation cannot reach it: the held POST still creates the job,
    // which the cleanup then cancels (its item downloads held until then).
    phase: 'creating-job',
    faults: {
      routes: [{ method: 'POST', path: '/projects/*/batch/jobs', hold: true, count: 1 }],
      gather: { hold: true },
    },
    job: 'cancelled',
  },
  { phase: 'waiting-for-job', faults: { gather: { hold: true } }, job: 'cancelled' },
  {
    phase: 'collecting-logs',
    faults: { routes: [{ method: 'GET', path: '/projects/*/batch/jobs/*/logs', hold: true, count: 1 }] },
    job: 'finished',
  },
];

const matrix = phaseCases.flatMap((phaseCase) =>
  (Object.keys(cancelBy) as Mechanism[]).map((mechanism) => ({ ...phaseCase, mechanism })),
);

function input(): BatchPredictionInput {
  return {
    dataset: { ndjsonPath: dataset },
    job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
    polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    logs: { collect: true },
  };
}

async function untilJobCancelled(handle: BatchPredictionHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { jobId } = await getProgress(handle);
    if (jobId && (await stack.datatureApi.jobs.get(jobId)).status.cancelledAt !== undefined) return;
    if (Date.now() > deadline) throw new Error(`the run's job was not cancelled within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function datasetsNamed(name: string) {
  const found = [];
  for await (const candidate of stack.datatureApi.datasets.list()) if (candidate.name === name) found.push(candidate);
  return found;
}

test.each(matrix)(
  '$mechanism while $phase: the run ends Canceled, cleaned up',
  async ({ phase, faults, job, mechanism }) => {
    const before = await stack.emulatorState();
    await stack.setFaults(faults);
    const handle = await startBatchPrediction(stack.env.client, input(), { taskQueue });
    const chain = { workflowId: handle.workflowId, firstExecutionRunId: handle.firstExecutionRunId };
    await untilPhase(handle, phase, 60_000);
    await cancelBy[mechanism](handle);
    // Setting the faults releases every held request: the held API call goes on, and items of a job created
    // after it are held (before the job exists, no item is held yet; a job's own held items are left alone).
    if (faults.routes) await stack.setFaults(faults.gather ? { gather: faults.gather } : {});
    if (job === 'cancelled') {
      // The items go on once the cleanup has cancelled the job: those in flight finish, no other starts.
      await untilJobCancelled(handle);
      await stack.setFaults({});
    }

    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    const progress = await getProgress(handle);
    expect(progress.phase).toBe('cancelled');
    expect(progress.cancelReason).toBe(
      mechanism === 'cancel signal' ? SIGNAL_REASON : 'workflow cancellation requested',
    );
    expect(progress.timings[phase]?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    const after = await stack.emulatorState();
    const logFile = join(logsDir, logFileNameFor(chain));

    if (job === 'none') {
      expect(after.jobs - before.jobs).toBe(0);
      expect(progress.jobId).toBeUndefined();
      // No job will ever use the dataset this run uploaded: deleted.
      expect(await datasetsNamed(datasetNameFor(chain))).toHaveLength(0);
      expect(existsSync(logFile)).toBe(false);
      return;
    }

    expect(after.jobs - before.jobs).toBe(1);
    expect(progress.jobId).toEqual(expect.any(String));
    const { status } = await stack.datatureApi.jobs.get(progress.jobId!);
    expect(status.overview).toBe('Reached');
    const accounted = status.items.delivered + status.items.failedDeliver;
    if (job === 'cancelled') {
      // Stopped before every item: those in flight (held until the cancel) finished, the others never started.
      expect(status.cancelledAt).toEqual(expect.any(Number));
      expect(status.message).toBe('Cancelled');
      expect(accounted).toBeLessThan(ITEMS);
    } else {
      expect(status.cancelledAt ?? undefined).toBeUndefined();
      expect(status.message).toBe('Finished');
      expect(accounted).toBe(ITEMS);
    }
    // The job holds on to its dataset: kept.
    expect(await datasetsNamed(datasetNameFor(chain))).toHaveLength(1);
    // Logs so far collected: one entry per item the job accounted for before it stopped.
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(accounted);
    expect(new Set(lines.map((line) => (JSON.parse(line) as { id: string }).id)).size).toBe(accounted);
  },
);

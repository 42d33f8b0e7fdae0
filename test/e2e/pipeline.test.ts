// The whole pipeline on the real Temporal dev server, the real emulator and receiver, over loopback.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NotFoundError } from '../../src/datature-api';
import { startReceiver } from '../../src/receiver';
import {
  type BatchPredictionHandle,
  cancelBatchPrediction,
  getProgress,
  startBatchPrediction,
} from '../../src/run-client';
import type { BatchPredictionInput } from '../../src/workflows/definitions';
import { datasetNameFor } from '../../src/workflows/resource-names';
import { ERRORED_DEPLOYMENT_ID, untilPhase, useStackWithWorker } from './harness';

const taskQueue = 'e2e-pipeline';
let dataset50: string;

const suite = useStackWithWorker(taskQueue);

beforeAll(() => {
  dataset50 = suite.stack.writeDataset('fifty.ndjson', 50);
});

afterEach(async () => {
  await suite.stack.setFaults({});
});

function input(overrides: Partial<BatchPredictionInput> = {}): BatchPredictionInput {
  return {
    dataset: { ndjsonPath: dataset50 },
    job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
    polling: { minIntervalMs: 1000, maxIntervalMs: 5000 },
    logs: { collect: true },
    ...overrides,
  };
}

async function start(overrides: Partial<BatchPredictionInput> = {}, workflowId?: string) {
  return startBatchPrediction(suite.stack.env.client, input(overrides), { taskQueue, workflowId });
}

/**
 * Every payload of a history (inputs, results, heartbeats, search attributes, memos, failure details),
 * decoded: payload `data` and metadata values are base64 in the history's JSON form.
 */
function decodedPayloads(history: unknown): string[] {
  const decoded: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.metadata === 'object' && record.metadata !== null && 'data' in record) {
      const base64 = [record.data, ...Object.values(record.metadata as Record<string, unknown>)];
      for (const value of base64) if (typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString());
    }
    for (const child of Object.values(record)) visit(child);
  };
  visit(JSON.parse(JSON.stringify(history)));
  return decoded;
}

async function failureOf(handle: BatchPredictionHandle): Promise<WorkflowFailedError> {
  const error = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return error as WorkflowFailedError;
}

test('50 items: uploaded, predicted, delivered to the receiver, logs on disk, no secret in history', async () => {
  const before = await suite.stack.emulatorState();
  const handle = await start({ receiverUrl: suite.stack.receiver.url }, 'e2e-fifty-items');
  const result = await handle.result();

  expect(result.outcome).toBe('completed');
  expect(result.itemCount).toBe(50);
  expect(result.job?.overview).toBe('Reached');
  expect(result.job?.items.delivered).toBe(50);
  expect(result.receiver).toEqual({ predictions: 50, delivered: 50, matchesDelivered: true });
  expect(result.logs?.entries).toBe(50);
  expect(result.logs?.byStatus).toEqual({ Delivered: 50 });
  expect(readFileSync(result.logs!.filePath, 'utf8').trim().split('\n')).toHaveLength(50);
  for (const phase of ['validating', 'uploading', 'waiting-for-dataset', 'creating-job', 'waiting-for-job'] as const) {
    expect(Date.parse(result.timings[phase]!.endedAt!)).toBeGreaterThanOrEqual(
      Date.parse(result.timings[phase]!.startedAt),
    );
  }

  const after = await suite.stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(1);
  expect(after.jobs - before.jobs).toBe(1);

  const description = await handle.describe();
  expect(description.typedSearchAttributes.get({ name: 'BatchPhase', type: 'KEYWORD' } as never)).toBe('completed');
  expect(description.typedSearchAttributes.get({ name: 'BatchJobId', type: 'KEYWORD' } as never)).toBe(result.jobId);

  // Kept by default (cleanup.deleteDatasetOnSuccess is off).
  expect((await suite.stack.datatureApi.datasets.get(result.datasetId!)).status.overview).toBe('Uploaded');

  const history = await handle.fetchHistory();
  const historyJson = JSON.stringify(history);
  expect(historyJson).not.toContain(suite.stack.emulator.secretKey);
  // Payloads are base64 in the history: decode each one (the input, every activity's input and
  // result, heartbeats, search attributes) and look inside.
  const payloads = decodedPayloads(history);
  expect(payloads.some((text) => text.includes(dataset50))).toBe(true); // the decoding does reach the input
  expect(payloads.length).toBeGreaterThan(20);
  for (const text of payloads) expect(text).not.toContain(suite.stack.emulator.secretKey);
});

test('bad NDJSON fails the run at validation, listing the lines, and creates nothing', async () => {
  const before = await suite.stack.emulatorState();
  const path = join(suite.stack.dir, 'bad.ndjson');
  writeFileSync(path, '{"kind":"Image","url":"http://127.0.0.1/a.png"}\nnot json\n{"kind":"Video","url":"x"}\n');
  const error = await failureOf(await start({ dataset: { ndjsonPath: path } }));
  // The run's own failure says what the activity said: its message and catalogue type.
  const cause = error.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.cause).toBeInstanceOf(ActivityFailure);
  expect(cause.type).toBe('InvalidNdjson');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toContain('line 2');
  expect(cause.message).toContain('line 3');
  const after = await suite.stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(0);
});

test('a dataset given as an ndjsonUrl is downloaded by the worker and runs to completion', async () => {
  const before = await suite.stack.emulatorState();
  suite.stack.writeDataset('by-url.ndjson', 20);
  const result = await (await start({ dataset: { ndjsonUrl: suite.stack.sourceUrl('by-url.ndjson') } })).result();

  expect(result.outcome).toBe('completed');
  expect(result.itemCount).toBe(20);
  expect(result.job?.overview).toBe('Reached');
  expect(result.job?.items.delivered).toBe(20);
  expect(result.logs?.entries).toBe(20);
  expect((await suite.stack.datatureApi.datasets.get(result.datasetId!)).status.itemCount).toBe(20);
  const after = await suite.stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(1);
  expect(after.jobs - before.jobs).toBe(1);
});

test('an ndjsonUrl answering 404 fails the run at once, non-retryably, naming the URL', async () => {
  const before = await suite.stack.emulatorState();
  const ndjsonUrl = suite.stack.sourceUrl('no-such-file.ndjson');
  const handle = await start({ dataset: { ndjsonUrl } });
  const error = await failureOf(handle);

  const cause = error.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.cause).toBeInstanceOf(ActivityFailure);
  expect(cause.message).toBe(`cannot read dataset source ${ndjsonUrl}: HTTP 404`);
  expect(cause.type).toBe('SourceUnreadable');
  expect(cause.nonRetryable).toBe(true);
  const { events } = await handle.fetchHistory();
  const attempts = (events ?? []).flatMap((event) =>
    event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.attempt] : [],
  );
  expect(attempts).toEqual([1]); // at once: one attempt, no retry (whatever the machine's speed)
  expect((await getProgress(handle)).phase).toBe('validating');
  const after = await suite.stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(0);
  expect(after.jobs - before.jobs).toBe(0);
});

test('a 404 from the API fails the run at once with its message and the ApiNotFound type', async () => {
  const handle = await start({
    job: { deploymentId: 'deploy_00000000-0000-4000-8000-0000000dead0', webhookIds: [suite.stack.webhookId] },
  });
  const error = await failureOf(handle);
  const cause = error.cause as ApplicationFailure;
  expect(cause.type).toBe('ApiNotFound');
  expect(cause.message).toBe(
    'the Datature API answered 404: spec.deployment.deploymentId: deployment deploy_00000000-0000-4000-8000-0000000dead0 not found',
  );
  expect(cause.nonRetryable).toBe(true);
  const progress = await getProgress(handle);
  expect(progress.phase).toBe('creating-job');
  // No job, so the dataset the run uploaded is of no use: the failure cleanup deleted it.
  expect(progress.datasetId).toBeDefined();
  const name = datasetNameFor({ workflowId: handle.workflowId, firstExecutionRunId: handle.firstExecutionRunId });
  for await (const dataset of suite.stack.datatureApi.datasets.list()) expect(dataset.name).not.toBe(name);
});

test('injected 500/429/503 answers and a dropped upload connection are retried to success', async () => {
  const before = await suite.stack.emulatorState();
  await suite.stack.setFaults({
    routes: [
      { method: 'POST', path: '/projects/*/batch/datasets', status: 500, count: 1 },
      { path: '/_uploads/**', drop: true, count: 1 },
      { method: 'GET', path: '/projects/*/batch/jobs/*', status: 429, retryAfterSeconds: 1, count: 2 },
      { method: 'GET', path: '/projects/*/batch/datasets/*', status: 503, count: 1 },
    ],
  });
  const result = await (await start()).result();
  expect(result.outcome).toBe('completed');
  expect(result.job?.items.delivered).toBe(50);
  // Every rule was count-limited: all spent means each fault really hit the run.
  expect((await suite.stack.faults()).routes).toEqual([]);
  const after = await suite.stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(1);
  expect(after.jobs - before.jobs).toBe(1);
});

test('a job the API ends Failed fails the run with type JobFailed and the API reason', async () => {
  const handle = await start({ job: { deploymentId: ERRORED_DEPLOYMENT_ID, webhookIds: [suite.stack.webhookId] } });
  const error = await failureOf(handle);
  const cause = error.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('JobFailed');
  const { jobId } = await getProgress(handle);
  expect(jobId).toBeDefined();
  expect(cause.message).toContain(jobId!);
  expect(cause.message).toContain(`deployment ${ERRORED_DEPLOYMENT_ID} cannot serve predictions: it is Errored`);
  expect((await suite.stack.datatureApi.jobs.get(jobId!)).status.overview).toBe('Failed');
});

test('a dataset the API ends FailedProcessing fails the run with type DatasetFailed and its message', async () => {
  const before = await suite.stack.emulatorState();
  await suite.stack.setFaults({ processing: { failRate: 1 } });
  const handle = await start();
  const error = await failureOf(handle);
  const cause = error.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('DatasetFailed');
  const { datasetId, phase } = await getProgress(handle);
  expect(cause.message).toBe(`dataset ${datasetId} ended FailedProcessing: injected processing failure`);
  expect(phase).toBe('waiting-for-dataset');
  const after = await suite.stack.emulatorState();
  expect(after.jobs - before.jobs).toBe(0);
});

test('cleanup.deleteDatasetOnSuccess deletes the uploaded dataset once the run completed', async () => {
  const result = await (await start({ cleanup: { deleteDatasetOnSuccess: true } })).result();
  expect(result.outcome).toBe('completed');
  expect(result.job?.items.delivered).toBe(50);
  await expect(suite.stack.datatureApi.datasets.get(result.datasetId!)).rejects.toBeInstanceOf(NotFoundError);
});

test('a receiver that stored fewer predictions than delivered is reported with matchesDelivered false', async () => {
  // A second receiver that the webhook does not point to: it holds none of this job's predictions.
  const elsewhere = await startReceiver({
    port: 0,
    secrets: ['c2Vjb25kLXJlY2VpdmVyLXNlY3JldC0xNmI='],
    outFile: join(suite.stack.dir, 'elsewhere.ndjson'),
  });
  try {
    const result = await (await start({ receiverUrl: elsewhere.url })).result();
    expect(result.outcome).toBe('completed');
    expect(result.receiver).toEqual({ predictions: 0, delivered: 50, matchesDelivered: false });
  } finally {
    await elsewhere.close();
  }
});

async function expectCancelledInWaitPhase(cancel: (handle: BatchPredictionHandle) => Promise<void>) {
  // Slow item downloads keep the job running long enough to be cancelled mid-way.
  await suite.stack.setFaults({ gather: { latencyMs: 400 } });
  const handle = await start();
  const progress = await untilPhase(handle, 'waiting-for-job');
  await cancel(handle);
  const error = await failureOf(handle);
  expect(error.cause).toBeInstanceOf(CancelledFailure);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  const job = await suite.stack.datatureApi.jobs.get(progress.jobId!);
  expect(job.status.cancelledAt).toEqual(expect.any(Number));
  expect(job.status.overview).toBe('Reached');
  expect((await getProgress(handle)).phase).toBe('cancelled');
}

test('the cancel signal in the wait phase cancels the Datature job and ends the run Canceled', async () => {
  await expectCancelledInWaitPhase((handle) => cancelBatchPrediction(handle, 'e2e says stop'));
});

test('handle.cancel() in the wait phase takes the same cleanup path', async () => {
  await expectCancelledInWaitPhase(async (handle) => {
    await handle.cancel();
  });
});

test('cancelled before the job exists: no job is created and the uploaded dataset is deleted', async () => {
  const before = await suite.stack.emulatorState();
  await suite.stack.setFaults({ routes: [{ path: '/_uploads/**', latencyMs: 3000 }] });
  const handle = await start();
  await untilPhase(handle, 'uploading');
  await handle.cancel();
  const error = await failureOf(handle);
  expect(error.cause).toBeInstanceOf(CancelledFailure);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  const after = await suite.stack.emulatorState();
  expect(after.jobs - before.jobs).toBe(0);
  const name = datasetNameFor({ workflowId: handle.workflowId, firstExecutionRunId: handle.firstExecutionRunId });
  const live = [];
  for await (const dataset of suite.stack.datatureApi.datasets.list()) if (dataset.name === name) live.push(dataset);
  expect(live).toHaveLength(0);
}, 90_000);

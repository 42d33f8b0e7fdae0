// The `datatureBatch` Nexus service on the real dev server: a workflow in the `callers` namespace runs a batch
// prediction in `default` through an endpoint targeting the worker's task queue, and cancels one.
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, NexusOperationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { HandlerError } from 'nexus-rpc';
import { DEV_CALLER_NAMESPACE, ensureNexusEndpoint } from '../../src/dev/nexus-endpoint';
import type { RunBatchPredictionRequest } from '../../src/nexus-service';
import { createWorker } from '../../src/worker';
import type { BatchPredictionInput } from '../../src/workflows/definitions';
import { type E2eStack, ERRORED_DEPLOYMENT_ID, startE2eStack, untilPhase } from './harness';
import type { batchPredictionViaNexus } from './nexus-callers';

const taskQueue = 'e2e-nexus-batch';
const callerTaskQueue = 'e2e-nexus-callers';
const endpoint = 'e2e-datature-batch';

let stack: E2eStack;
let callers: Client;
let dataset: string;
const running: Promise<void>[] = [];
const workers: Worker[] = [];

const runWorker = (worker: Worker) => {
  workers.push(worker);
  running.push(worker.run());
};

beforeAll(async () => {
  stack = await startE2eStack({ extraNamespaces: [DEV_CALLER_NAMESPACE] });
  const namespace = stack.env.namespace ?? 'default';
  runWorker(
    await createWorker({
      connection: stack.env.nativeConnection,
      namespace,
      taskQueue,
      datature: {
        secretKey: stack.emulator.secretKey,
        projectId: stack.emulator.projectId,
        baseUrl: stack.emulator.url,
      },
      logsDir: `${stack.dir}/logs`,
    }),
  );
  await ensureNexusEndpoint(stack.env.connection, { name: endpoint, namespace, taskQueue });
  runWorker(
    await Worker.create({
      connection: stack.env.nativeConnection,
      namespace: DEV_CALLER_NAMESPACE,
      taskQueue: callerTaskQueue,
      workflowsPath: require.resolve('./nexus-callers'),
    }),
  );
  callers = new Client({ connection: stack.env.connection, namespace: DEV_CALLER_NAMESPACE });
  dataset = stack.writeDataset('ten.ndjson', 10);
}, 180_000);

afterAll(async () => {
  await stack?.setFaults({});
  for (const worker of workers) worker.shutdown();
  await Promise.all(running);
  await stack?.close();
});

function input(overrides: Partial<BatchPredictionInput> = {}): BatchPredictionInput {
  return {
    dataset: { ndjsonPath: dataset },
    job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
    polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    ...overrides,
  };
}

function startCaller(workflowId: string, request: RunBatchPredictionRequest) {
  return callers.workflow.start<typeof batchPredictionViaNexus>('batchPredictionViaNexus', {
    taskQueue: callerTaskQueue,
    workflowId,
    args: [endpoint, request],
  });
}

async function failureOf(promise: Promise<unknown>): Promise<WorkflowFailedError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return error as WorkflowFailedError;
}

test('a caller in another namespace gets the batch result; the run lives in the worker namespace', async () => {
  const caller = await startCaller('nexus-caller-ok', { input: input(), workflowId: 'nexus-batch-ok' });
  const { result, phaseWhileRunning } = await caller.result();
  expect(result.outcome).toBe('completed');
  expect(result.jobId).toEqual(expect.any(String));
  expect(phaseWhileRunning).toEqual(expect.any(String));
  const run = stack.env.client.workflow.getHandle('nexus-batch-ok');
  expect((await run.describe()).status.name).toBe('COMPLETED');
  expect(await run.result()).toEqual(result);
});

test("cancelling the caller cancels the run and its Datature job, with the run's cleanup", async () => {
  // 50 slow item downloads keep the job running long enough to be cancelled mid-way, even on a loaded machine.
  await stack.setFaults({ gather: { latencyMs: 1000 } });
  const fifty = { ndjsonPath: stack.writeDataset('fifty.ndjson', 50) };
  const caller = await startCaller('nexus-caller-cancel', {
    input: input({ dataset: fifty }),
    workflowId: 'nexus-batch-cancel',
  });
  const run = stack.env.client.workflow.getHandle('nexus-batch-cancel');
  const progress = await untilPhase(run, 'waiting-for-job');
  await caller.cancel();
  const callerError = await failureOf(caller.result());
  expect(callerError.cause).toBeInstanceOf(CancelledFailure);
  const runError = await failureOf(run.result());
  expect(runError.cause).toBeInstanceOf(CancelledFailure);
  expect((await run.describe()).status.name).toBe('CANCELLED');
  const job = await stack.datatureApi.jobs.get(progress.jobId!);
  expect(job.status.cancelledAt).toEqual(expect.any(Number));
});

test('a bad input comes back to the caller as a BAD_REQUEST operation error naming the field', async () => {
  const bad = input({ job: { deploymentId: stack.emulator.deploymentId, webhookIds: [] } });
  const caller = await startCaller('nexus-caller-bad-input', { input: bad });
  const error = await failureOf(caller.result());
  expect(error.cause).toBeInstanceOf(NexusOperationFailure);
  const handlerError = error.cause?.cause;
  expect(handlerError).toBeInstanceOf(HandlerError);
  expect((handlerError as HandlerError).type).toBe('BAD_REQUEST');
  expect((handlerError as HandlerError).message).toContain('job.webhookIds: the API needs at least one webhook');
});

test("a run that fails fails the caller's operation, the run's failure type in its cause chain", async () => {
  const failing = input({ job: { deploymentId: ERRORED_DEPLOYMENT_ID, webhookIds: [stack.webhookId] } });
  const caller = await startCaller('nexus-caller-job-failed', { input: failing });
  const error = await failureOf(caller.result());
  expect(error.cause).toBeInstanceOf(NexusOperationFailure);
  const causes: unknown[] = [];
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) causes.push(cause);
  const runFailure = causes.find((cause) => cause instanceof ApplicationFailure && cause.type === 'JobFailed');
  expect(runFailure).toBeDefined();
});

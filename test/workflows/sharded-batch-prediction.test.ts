// A run given `sharding` on the time-skipping server against the scripted API: the source split into item
// ranges run as child batchPrediction runs, round-robin over the deployments, at most maxParallelShards at
// once; a failed shard tried again on the next deployment while the others go on; the parent's cancel reaching
// every child; continue-as-new carrying the shard table; child ids derived from the parent's, so a second
// execution of the same workflow id runs no shard again.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { type ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import {
  type BatchPredictionInput,
  type BatchPredictionResult,
  type BatchProgress,
  cancelSignal,
  progressQuery,
} from '../../src/workflows/definitions';
import { shardWorkflowIdFor } from '../../src/workflows/resource-names';
import { defaultDrainAt } from '../../src/workflows/sharded-batch-prediction';
import { ITEM_BYTES, scriptedApi, scriptedInput } from './scripted-activities';
import { runScripted } from './scripted-run';
import { useTimeSkipping } from './time-skipping-env';

const HOUR = 3_600_000;
const suite = useTimeSkipping();

const EventType = temporal.api.enums.v1.EventType;

function shardedInput(sharding: BatchPredictionInput['sharding'], deploymentIds: string[]): BatchPredictionInput {
  return scriptedInput({
    job: { deploymentIds, webhookIds: ['webhook_1'] },
    sharding,
    logs: { collect: false },
  });
}

/** Over the parent's runs: the child ids started, and the most children open at once. */
async function childrenOf(workflowId: string, firstRunId: string) {
  const started: string[] = [];
  let open = 0;
  let maxOpen = 0;
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await suite.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runId = undefined;
    for (const event of history.events ?? []) {
      switch (event.eventType) {
        case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
          started.push(event.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!);
          open += 1;
          maxOpen = Math.max(maxOpen, open);
          break;
        case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
        case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
        case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
        case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
          open -= 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
          runId = event.workflowExecutionContinuedAsNewEventAttributes!.newExecutionRunId!;
          break;
      }
    }
  }
  return { started, maxOpen };
}

async function firstRunIdOf(workflowId: string): Promise<string> {
  const description = await suite.env.client.workflow.getHandle(workflowId).describe();
  return description.raw.workflowExecutionInfo?.firstRunId ?? description.runId;
}

test('a source of 95 items in shards of 20: five child runs of the right ranges, round-robin, two at once, one progress', async () => {
  const api = scriptedApi({ itemCount: 95, jobDurationMs: 2 * HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 20, maxParallelShards: 2 }, ['deploy_a', 'deploy_b']);
  let progress: BatchProgress | undefined;
  const { result, error, workflowId } = await runScripted(suite, api, input, async (handle) => {
    // A query needs a worker: asked before runScripted stops it.
    await handle.result();
    progress = await handle.query(progressQuery);
  });
  expect(error).toBeUndefined();
  const shards = (result as BatchPredictionResult).shards!;
  expect(result).toMatchObject({ outcome: 'completed', itemCount: 95 });
  expect(shards).toMatchObject({ total: 5, done: 5, failed: 0, running: 0, waiting: 0, retries: 0, failures: [] });
  expect(shards.summaries.map((shard) => [shard.itemRange.start, shard.itemRange.end, shard.deploymentId])).toEqual([
    [0, 20, 'deploy_a'],
    [20, 40, 'deploy_b'],
    [40, 60, 'deploy_a'],
    [60, 80, 'deploy_b'],
    [80, 95, 'deploy_a'],
  ]);
  // Each child read its own range of the source, by the bytes the parent's validation noted (the last one to
  // the end), and made its job on its deployment, with its own dataset.
  const ranges = api.sources.map((source) => ('itemRange' in source ? source.itemRange : undefined));
  expect(ranges[0]).toBeUndefined();
  expect(ranges.slice(1).sort((a, b) => a!.start - b!.start)).toEqual(
    shards.summaries.map(({ itemRange: { start, end } }) => ({
      start,
      end,
      byteStart: start * ITEM_BYTES,
      ...(end < 95 && { byteEnd: end * ITEM_BYTES }),
    })),
  );
  expect(api.jobs.map((job) => [job.itemCount, job.deploymentId]).sort()).toEqual(
    [
      [20, 'deploy_a'],
      [20, 'deploy_b'],
      [20, 'deploy_a'],
      [20, 'deploy_b'],
      [15, 'deploy_a'],
    ].sort(),
  );
  expect(new Set(api.jobs.map((job) => job.datasetId)).size).toBe(5);
  expect(result!.job!.items.delivered).toBe(95);
  const children = await childrenOf(workflowId, await firstRunIdOf(workflowId));
  expect(children.started).toEqual([0, 1, 2, 3, 4].map((index) => shardWorkflowIdFor(workflowId, index)));
  expect(children.maxOpen).toBe(2);
  // The parent answers `progress` like any run, with the shards' states and their summed counters.
  expect(progress).toMatchObject({ phase: 'completed', itemCount: 95, shards: { total: 5, done: 5 } });
  expect(progress!.job!.items.delivered).toBe(95);
}, 120_000);

test('a shard whose job fails is tried again on the next deployment while the others go on', async () => {
  const api = scriptedApi({
    itemCount: 40,
    jobDurationMs: HOUR,
    client: suite.env.client,
    jobFailsOn: { deploy_bad: 'the model crashed' },
  });
  const input = shardedInput({ maxItemsPerShard: 10, maxParallelShards: 4 }, ['deploy_bad', 'deploy_good']);
  const { result, error, workflowId } = await runScripted(suite, api, input);
  expect(error).toBeUndefined();
  const shards = result!.shards!;
  expect(shards).toMatchObject({ total: 4, done: 4, failed: 0, retries: 2 });
  expect(shards.summaries.map((shard) => [shard.attempts, shard.deploymentId, shard.workflowId])).toEqual([
    [2, 'deploy_good', shardWorkflowIdFor(workflowId, 0, 2)],
    [1, 'deploy_good', shardWorkflowIdFor(workflowId, 1)],
    [2, 'deploy_good', shardWorkflowIdFor(workflowId, 2, 2)],
    [1, 'deploy_good', shardWorkflowIdFor(workflowId, 3)],
  ]);
  expect(result!.job!.items.delivered).toBe(40);
}, 120_000);

test('shards failing every try end the run ShardsFailed, naming each with its root cause; the others complete', async () => {
  const api = scriptedApi({
    itemCount: 30,
    jobDurationMs: HOUR,
    client: suite.env.client,
    jobFailsOn: { deploy_bad: 'the model crashed' },
  });
  const input = shardedInput({ maxItemsPerShard: 10, maxParallelShards: 3, maxShardAttempts: 1 }, [
    'deploy_bad',
    'deploy_good',
  ]);
  const { error, workflowId } = await runScripted(suite, api, input);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('ShardsFailed');
  expect(cause.message).toMatch(/^2 of 3 shards failed after their retries \(1 done\): /);
  expect(cause.message).toContain(`shard 0 (items 0–9, ${shardWorkflowIdFor(workflowId, 0)}): [JobFailed]`);
  expect(cause.message).toContain('shard 2 (items 20–29');
  expect(cause.message).toContain('the model crashed');
  const [details] = cause.details as [{ failures: { index: number; type: string }[]; done: number }];
  expect(details.failures.map((failure) => [failure.index, failure.type])).toEqual([
    [0, 'JobFailed'],
    [2, 'JobFailed'],
  ]);
  expect(details.done).toBe(1);
}, 120_000);

test('cancelling the parent cancels every running child, each cleaning up; no further shard starts', async () => {
  const api = scriptedApi({ itemCount: 40, jobDurationMs: 10 * HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 10, maxParallelShards: 2 }, ['deploy_a', 'deploy_b']);
  let progress: BatchProgress | undefined;
  const { error, workflowId } = await runScripted(suite, api, input, async (handle: WorkflowHandle) => {
    // Both running children have made their jobs (and sleep until their next look).
    while (api.jobs.length < 2 || (api.calls.getJob ?? 0) < 2) await new Promise((r) => setTimeout(r, 50));
    await handle.signal(cancelSignal, { reason: 'wrong model' });
    await handle.result().catch(() => undefined);
    progress = await handle.query(progressQuery);
  });
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect(api.jobs).toHaveLength(2);
  expect(api.jobs.every((job) => job.cancelledAt !== undefined)).toBe(true);
  for (const index of [0, 1]) {
    const child = await suite.env.client.workflow.getHandle(shardWorkflowIdFor(workflowId, index)).describe();
    expect(child.status.name).toBe('CANCELLED');
  }
  expect(progress).toMatchObject({ phase: 'cancelled', cancelReason: 'wrong model', shards: { total: 4, running: 0 } });
}, 120_000);

test("the parent's progress sums a running shard's reported counters", async () => {
  const api = scriptedApi({ itemCount: 100, jobDurationMs: 10 * HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 50, maxParallelShards: 1 }, ['deploy_a']);
  let progress: BatchProgress | undefined;
  await runScripted(suite, api, input, async (handle: WorkflowHandle) => {
    while (api.jobs.length < 1) await new Promise((r) => setTimeout(r, 50));
    // Three hours into the first shard's ten: it has looked at its job and reported several times.
    await suite.env.sleep('3 hours');
    progress = await handle.query(progressQuery);
    await handle.signal(cancelSignal, { reason: 'enough' });
  });
  expect(progress).toMatchObject({ phase: 'running-shards', shards: { total: 2, running: 1, waiting: 1, done: 0 } });
  const delivered = progress!.job!.items.delivered;
  expect(delivered).toBeGreaterThan(0);
  expect(delivered).toBeLessThan(50);
}, 120_000);

test('a long run continues as new carrying the shard table: every shard runs once, the totals add up', async () => {
  const api = scriptedApi({ itemCount: 24, jobDurationMs: HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 2, maxParallelShards: 3, maxHistoryEvents: 100 }, ['deploy_a']);
  const { result, error, stats, workflowId } = await runScripted(suite, api, input);
  expect(error).toBeUndefined();
  expect(stats.runs).toBeGreaterThan(1);
  expect(result).toMatchObject({ runs: stats.runs, itemCount: 24, shards: { total: 12, done: 12, failed: 0 } });
  expect(result!.job!.items.delivered).toBe(24);
  const children = await childrenOf(workflowId, await firstRunIdOf(workflowId));
  expect(children.started).toEqual([...Array(12).keys()].map((index) => shardWorkflowIdFor(workflowId, index)));
  expect(api.jobs).toHaveLength(12);
  // The shards' byte offsets travel with the table: the shards of later runs read their own bytes too.
  for (const source of api.sources.slice(1)) {
    const range = 'itemRange' in source ? source.itemRange! : undefined;
    expect(range?.byteStart).toBe(range!.start * ITEM_BYTES);
  }
  // Drained before continuing: no run holds much more than the threshold.
  expect(stats.largestRunEvents).toBeLessThan(200);
}, 120_000);

test("long shards: the drain starts once the history is long and stops the shards' reports, so no run passes the bound by much", async () => {
  // Four shards of 20-hour jobs at once report their counters for hours: before the bounded drain, the parent
  // drained only at the next shard's end and took every report meanwhile (hundreds of events over 100).
  const api = scriptedApi({ itemCount: 200, jobDurationMs: 20 * HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 25, maxParallelShards: 4, maxHistoryEvents: 100 }, ['deploy_a']);
  const { result, error, stats } = await runScripted(suite, api, input);
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ itemCount: 200, shards: { total: 8, done: 8, failed: 0 } });
  expect(result!.job!.items.delivered).toBe(200);
  expect(stats.runs).toBeGreaterThan(1);
  // The threshold, then per running shard its stop signal (2 events) and its end (about 8).
  expect(stats.largestRunEvents).toBeLessThan(100 + 4 * 10 + 20);
}, 180_000);

test('with 100 shards at once the default drain starts early enough that the run stays under 2,000 events', async () => {
  // At the legacy drain point (1,000 events) 100 running shards took a run on the dev server to 2,012 events.
  const api = scriptedApi({ itemCount: 220, jobDurationMs: 60_000, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 1, maxParallelShards: 100 }, ['deploy_a', 'deploy_b']);
  const { result, error, stats, workflowId } = await runScripted(suite, api, input);
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ itemCount: 220, shards: { total: 220, done: 220, failed: 0 } });
  expect(stats.runs).toBeGreaterThan(1);
  expect(stats.largestRunEvents).toBeLessThan(2_000);
  // The first run started its last shard at the drain point (600 with 100 at once), not at 1,000.
  const history = await suite.env.client.workflow.getHandle(workflowId, await firstRunIdOf(workflowId)).fetchHistory();
  const starts = (history.events ?? []).filter(
    (event) => event.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  );
  expect(defaultDrainAt(100)).toBe(600);
  expect(Number(starts[starts.length - 1].eventId)).toBeLessThan(defaultDrainAt(100) + 50);
}, 180_000);

test('a second execution of the same workflow id starts no shard again (child ids derive from the parent id)', async () => {
  const api = scriptedApi({ itemCount: 30, jobDurationMs: HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 10, maxParallelShards: 3 }, ['deploy_a']);
  const taskQueue = `scripted-${randomUUID()}`;
  const workflowId = `batch-${randomUUID()}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.workflowBundle,
    activities: api.activities,
  });
  const [first, second] = await worker.runUntil(async () => {
    const runOnce = () =>
      suite.env.client.workflow.execute<(i: BatchPredictionInput) => Promise<BatchPredictionResult>>(
        'batchPrediction',
        { taskQueue, workflowId, args: [input] },
      );
    return [await runOnce(), await runOnce()];
  });
  expect(first.shards!.summaries.map((shard) => shard.status)).toEqual(['done', 'done', 'done']);
  expect(second.shards!.summaries.map((shard) => shard.status)).toEqual([
    'done-earlier',
    'done-earlier',
    'done-earlier',
  ]);
  expect(api.jobs).toHaveLength(3);
}, 120_000);

test('a worker lost mid-run: the next one replays the parent and starts no shard twice', async () => {
  const api = scriptedApi({ itemCount: 30, jobDurationMs: 2 * HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 10, maxParallelShards: 2 }, ['deploy_a', 'deploy_b']);
  const taskQueue = `scripted-${randomUUID()}`;
  const workflowId = `batch-${randomUUID()}`;
  const workerOn = () =>
    Worker.create({
      connection: suite.env.nativeConnection,
      taskQueue,
      workflowBundle: suite.workflowBundle,
      activities: api.activities,
      // No cache: every workflow task replays the whole history (the parent's included), and no sticky queue
      // of the lost worker holds tasks (the time-skipping server would never time it out: its clock is locked).
      maxCachedWorkflows: 0,
    });
  const first = await workerOn();
  const handle = await first.runUntil(async () => {
    const started = await suite.env.client.workflow.start('batchPrediction', { taskQueue, workflowId, args: [input] });
    // Two shards have made their jobs; then this worker goes away, its cached workflows with it.
    while (api.jobs.length < 2) await new Promise((r) => setTimeout(r, 50));
    return started;
  });
  const second = await workerOn();
  const result: BatchPredictionResult = await second.runUntil(handle.result());
  expect(result.shards).toMatchObject({ total: 3, done: 3, failed: 0, retries: 0 });
  const children = await childrenOf(workflowId, handle.firstExecutionRunId);
  expect(children.started).toEqual([0, 1, 2].map((index) => shardWorkflowIdFor(workflowId, index)));
  expect(api.jobs).toHaveLength(3);
}, 120_000);

test('poke (checkNow) on the parent makes every running shard look at its job at once', async () => {
  const api = scriptedApi({ itemCount: 100, jobDurationMs: 20 * HOUR, client: suite.env.client });
  const input = shardedInput({ maxItemsPerShard: 50, maxParallelShards: 2 }, ['deploy_a', 'deploy_b']);
  let looksBefore = 0;
  let looksAfter = 0;
  const { result } = await runScripted(suite, api, input, async (handle) => {
    await suite.env.sleep(10 * HOUR);
    // Both shards sleep for minutes at this point of a 20-hour job; no server time passes while this waits.
    looksBefore = api.lookTimes.length;
    await handle.signal('checkNow', { from: 'test' });
    for (let i = 0; i < 200 && api.lookTimes.length < looksBefore + 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    looksAfter = api.lookTimes.length;
    await handle.result();
  });
  expect(result!.outcome).toBe('completed');
  expect(looksAfter).toBe(looksBefore + 2);
});

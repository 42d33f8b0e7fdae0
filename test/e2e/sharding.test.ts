// A sharded run on the real dev server and emulator: 60 items in shards of 20, two at once, over two emulated
// deployments. Each shard is a child batchPrediction with its own dataset (its 20 items of the file) and its
// own job on its deployment; the parent's result sums them, and each shard's items reach the receiver.

import { readFileSync } from 'node:fs';
import { startBatchPrediction } from '../../src/run-client';
import {
  BatchPhaseKey,
  type BatchPredictionInput,
  type BatchPredictionResult,
  type ItemRange,
  SHARD_BYTES_MEMO,
} from '../../src/workflows/definitions';
import { shardWorkflowIdFor } from '../../src/workflows/resource-names';
import { SECOND_DEPLOYMENT_ID, useStackWithWorker } from './harness';

const taskQueue = 'e2e-sharding';
const suite = useStackWithWorker(taskQueue);

test('60 items in shards of 20 over two deployments: three child runs, three datasets of 20, one result', async () => {
  const { stack } = suite;
  const dataset = stack.writeDataset('sixty.ndjson', 60);
  const before = await stack.emulatorState();
  const deployments = [stack.emulator.deploymentId, SECOND_DEPLOYMENT_ID];
  const workflowId = 'e2e-sharded-sixty';
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: dataset },
      job: { deploymentIds: deployments, webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 5000 },
      sharding: { maxItemsPerShard: 20, maxParallelShards: 2 },
    },
    { taskQueue, workflowId },
  );
  const result: BatchPredictionResult = await handle.result();
  expect(result).toMatchObject({ outcome: 'completed', itemCount: 60, shards: { total: 3, done: 3, failed: 0 } });
  expect(result.job!.items.delivered).toBe(60);
  expect(result.shards!.summaries.map((shard) => shard.delivered)).toEqual([20, 20, 20]);

  const after = await stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(3);
  expect(after.jobs - before.jobs).toBe(3);
  // Each child: its own range's 20 items, read by the bytes the parent's validation noted (where lines 20 and 40
  // start; the last to the end), its job on the deployment the round-robin gave it.
  const text = readFileSync(dataset, 'utf8');
  const lineStarts = [0, 20, 40].map((line) => text.split('\n').slice(0, line).join('\n').length + (line ? 1 : 0));
  for (const [index, expected] of [deployments[0], deployments[1], deployments[0]].entries()) {
    const childHandle = stack.env.client.workflow.getHandle(shardWorkflowIdFor(workflowId, index));
    const child: BatchPredictionResult = await childHandle.result();
    expect(child.itemCount).toBe(20);
    // The range's bytes go in the child's memo, its input keeping the fields a worker from before byte ranges
    // accepts (it checks the input strictly, and ignores a memo).
    const history = await childHandle.fetchHistory();
    const payload = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    const input = JSON.parse(Buffer.from(payload.data!).toString()) as BatchPredictionInput;
    expect((input.dataset as { itemRange: ItemRange }).itemRange).toEqual({ start: index * 20, end: index * 20 + 20 });
    expect((await childHandle.describe()).memo).toEqual({
      [SHARD_BYTES_MEMO]: { byteStart: lineStarts[index], ...(index < 2 && { byteEnd: lineStarts[index + 1] }) },
    });
    const job = await stack.datatureApi.jobs.get(child.jobId!);
    expect(job.spec.deployment).toMatchObject({ kind: 'ExistingDeployment', deploymentId: expected });
    expect(stack.receiver.counts()[child.jobId!]).toBe(20);
  }
  // The parent's own history is small: the items live in the children's datasets, never in its events.
  const history = await handle.fetchHistory();
  expect(history.events!.length).toBeLessThan(100);
  const described = await handle.describe();
  expect(described.typedSearchAttributes.get(BatchPhaseKey)).toBe('completed');
}, 240_000);

test('a URL source in shards: each shard asks the file server for its bytes and gets its items', async () => {
  const { stack } = suite;
  stack.writeDataset('forty-five.ndjson', 45);
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonUrl: stack.sourceUrl('forty-five.ndjson') },
      job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 5000 },
      sharding: { maxItemsPerShard: 20, maxParallelShards: 3 },
    },
    { taskQueue, workflowId: 'e2e-sharded-url' },
  );
  const result: BatchPredictionResult = await handle.result();
  expect(result).toMatchObject({ outcome: 'completed', itemCount: 45, shards: { total: 3, done: 3 } });
  expect(result.shards!.summaries.map((shard) => shard.delivered)).toEqual([20, 20, 5]);
  // Each shard read a range of bytes (its validation checks their count and length against what the parent found).
  const lastShard = stack.env.client.workflow.getHandle(shardWorkflowIdFor('e2e-sharded-url', 2));
  expect((await lastShard.describe()).memo).toEqual({ [SHARD_BYTES_MEMO]: { byteStart: expect.any(Number) } });
}, 240_000);

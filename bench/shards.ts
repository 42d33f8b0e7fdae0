// Mega-batches (docs/pipeline.md, "Sharding"), two tables:
// 1. On the emulator: 200,000 items (4,000 with BENCH_QUICK=1) as one run (baseline) vs the same file sharded
//    into 20 shards of 10,000 (4 of 1,000), two at once, round-robin over two emulated deployments. Wall time,
//    the parent's history events (all its runs, and its largest run), the worker's peak RSS.
// 2. On the time-skipping server with the scripted API (a real 10,000-job run does not fit 2 cores): 10,000
//    shards of 100 items (1,000 with BENCH_QUICK=1), 100 at once. The parent's runs, its largest run's events
//    (goal < 2,000), and the `progress` query's latency while shards run (goal < 100 ms).
//   npx tsx bench/shards.ts      BENCH_QUICK=1 npx tsx bench/shards.ts
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { DEV_DEPLOYMENT_ID, DEV_PROJECT_ID, DEV_SECRET_KEY } from '../src/emulator';
import { startBatchPrediction } from '../src/run-client';
import { type BatchPredictionInput, type BatchPredictionResult, progressQuery } from '../src/workflows/definitions';
import { executionStats } from '../test/workflows/history-stats';
import { scriptedApi } from '../test/workflows/scripted-activities';
import { startTimeSkipping } from '../test/workflows/time-skipping-env';
import { type Figures, median, QUICK, runBench, runIfMain } from './support/ab';
import { type PipelineStack, startPipelineStack } from './support/pipeline-stack';

const SECOND_DEPLOYMENT_ID = 'deploy_00000000-0000-4000-8000-000000000002';
const ITEMS = QUICK ? 4_000 : 200_000;
const SHARD_SIZE = QUICK ? 1_000 : 10_000;
const PARALLEL = 2;
/** Per item: with 4 replicas x 4 items each, one job predicts at most 16 / 20 ms = 800 items/s. */
const MODEL_LATENCY_MS = 20;
const MANY_SHARDS = Number(process.env.BENCH_SHARDS_MANY ?? (QUICK ? 1_000 : 10_000));
const MANY_SHARD_ITEMS = 100;
const MANY_PARALLEL = 100;
const GOAL_EVENTS = 2_000;
const GOAL_QUERY_MS = 100;

/** One run on the emulator with a fresh worker process (its peak RSS is this run's). */
async function runOnEmulator(stack: PipelineStack, client: Client, input: BatchPredictionInput): Promise<Figures> {
  const worker = await stack.startWorker(`worker-${randomUUID().slice(0, 8)}`);
  const started = performance.now();
  const handle = await startBatchPrediction(client, input);
  const result: BatchPredictionResult = await handle.result();
  const wallS = (performance.now() - started) / 1000;
  const { peakRssMiB } = await worker.stop();
  const stats = await executionStats(client, handle.workflowId, handle.firstExecutionRunId);
  return {
    wallS,
    delivered: result.job?.items.delivered ?? 0,
    events: stats.historyEvents,
    largestRunEvents: stats.largestRunEvents,
    runs: stats.runs,
    peakRssMiB,
  };
}

async function emulatorTable(): Promise<void> {
  const stack = await startPipelineStack({
    modelLatencyMs: MODEL_LATENCY_MS,
    tickIntervalMs: 100,
    projects: [
      {
        id: DEV_PROJECT_ID,
        secretKey: DEV_SECRET_KEY,
        deployments: [
          { id: DEV_DEPLOYMENT_ID, replicas: 4, overview: 'Available' },
          { id: SECOND_DEPLOYMENT_ID, replicas: 4, overview: 'Available' },
        ],
      },
    ],
  });
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection });
    const file = stack.writeItems('items.ndjson', ITEMS);
    // Both look at their jobs at least every 5 s: the comparison is of throughput, not of polling delays.
    const base = {
      dataset: { ndjsonPath: file },
      logs: { collect: false },
      polling: { minIntervalMs: 1_000, maxIntervalMs: 5_000 },
    };
    const one = {
      name: `one run on one deployment`,
      run: () =>
        runOnEmulator(stack, client, {
          ...base,
          job: { deploymentId: DEV_DEPLOYMENT_ID, webhookIds: [stack.webhookId] },
        }),
    };
    const sharded = {
      name: `${ITEMS / SHARD_SIZE} shards of ${SHARD_SIZE.toLocaleString('en')}, ${PARALLEL} at once, 2 deployments`,
      run: () =>
        runOnEmulator(stack, client, {
          ...base,
          job: { deploymentIds: [DEV_DEPLOYMENT_ID, SECOND_DEPLOYMENT_ID], webhookIds: [stack.webhookId] },
          sharding: { maxItemsPerShard: SHARD_SIZE, maxParallelShards: PARALLEL },
        }),
    };
    await runBench({
      title: `shards: ${ITEMS.toLocaleString('en')} items, one run vs sharded (emulator)`,
      setup:
        `${ITEMS} items in one NDJSON file, model ${MODEL_LATENCY_MS} ms per item, 4 replicas x 4 items per job, polling 1 to 5 s, ` +
        'emulator and one worker process (fresh each run), Temporal dev server, loopback, 2 shared cores',
      rounds: 1,
      baseline: one,
      variants: [sharded],
      columns: [
        { key: 'wallS', label: 'wall s', ratio: true },
        { key: 'delivered', label: 'delivered', digits: 0 },
        { key: 'events', label: 'parent history events (all runs)', digits: 0 },
        { key: 'largestRunEvents', label: 'largest run', digits: 0 },
        { key: 'peakRssMiB', label: 'worker peak RSS MiB', digits: 0 },
      ],
    });
  } finally {
    await connection.close();
    await stack.close();
  }
}

async function manyShardsTable(): Promise<void> {
  const suite = await startTimeSkipping();
  try {
    const run = {
      name: `${MANY_SHARDS.toLocaleString('en')} shards of ${MANY_SHARD_ITEMS}, ${MANY_PARALLEL} at once`,
      async run(): Promise<Figures> {
        const api = scriptedApi({
          itemCount: MANY_SHARDS * MANY_SHARD_ITEMS,
          jobDurationMs: 60_000,
          client: suite.env.client,
        });
        const taskQueue = `bench-shards-${randomUUID()}`;
        const worker = await Worker.create({
          connection: suite.env.nativeConnection,
          taskQueue,
          workflowBundle: suite.workflowBundle,
          activities: api.activities,
          maxConcurrentWorkflowTaskExecutions: 100,
          maxCachedWorkflows: 1_000,
        });
        const input: BatchPredictionInput = {
          dataset: { ndjsonPath: '/scripted/items.ndjson' },
          job: { deploymentIds: ['deploy_a', 'deploy_b'], webhookIds: ['webhook_1'] },
          logs: { collect: false },
          sharding: { maxItemsPerShard: MANY_SHARD_ITEMS, maxParallelShards: MANY_PARALLEL },
        };
        const queryMs: number[] = [];
        const started = performance.now();
        const handle = await suite.env.client.workflow.start('batchPrediction', {
          taskQueue,
          workflowId: `bench-shards-${randomUUID()}`,
          args: [input],
        });
        const result = await worker.runUntil(async () => {
          const ended = handle.result() as Promise<BatchPredictionResult>;
          let done = false;
          void ended.finally(() => {
            done = true;
          });
          // The progress query, timed while shards run (the parent answers from its table and running shards).
          const sampling = (async () => {
            while (!done) {
              await new Promise((resolve) => setTimeout(resolve, 2_000));
              if (done) break;
              const t0 = performance.now();
              const progress = await (handle as WorkflowHandle).query(progressQuery).catch(() => undefined);
              if (progress) queryMs.push(performance.now() - t0);
            }
          })();
          const value = await ended;
          await sampling;
          return value;
        });
        const wallS = (performance.now() - started) / 1000;
        const stats = await executionStats(suite.env.client, handle.workflowId, handle.firstExecutionRunId);
        return {
          wallS,
          done: result.shards?.done ?? 0,
          runs: stats.runs,
          largestRunEvents: stats.largestRunEvents,
          events: stats.historyEvents,
          queryMedianMs: queryMs.length ? median(queryMs) : Number.NaN,
          queryP95Ms: queryMs.length
            ? [...queryMs].sort((a, b) => a - b)[Math.floor(queryMs.length * 0.95)]
            : Number.NaN,
          queryMaxMs: queryMs.length ? Math.max(...queryMs) : Number.NaN,
          queries: queryMs.length,
        };
      },
    };
    await runBench({
      title: `shards: ${MANY_SHARDS.toLocaleString('en')} shards, the parent's history stays bounded (time-skipping server, scripted API)`,
      setup: `${MANY_SHARDS} child runs of ${MANY_SHARD_ITEMS} items on the time-skipping test server against the scripted API (jobs of 1 min on its clock), one in-process worker, 2 shared cores`,
      rounds: 1,
      baseline: run,
      variants: [],
      columns: [
        { key: 'wallS', label: 'wall s' },
        { key: 'done', label: 'shards done', digits: 0 },
        { key: 'runs', label: 'parent runs', digits: 0 },
        { key: 'largestRunEvents', label: 'largest run events', digits: 0 },
        { key: 'events', label: 'events (all runs)', digits: 0 },
        { key: 'queryMedianMs', label: 'progress query median ms', digits: 1 },
        { key: 'queryP95Ms', label: 'p95 ms', digits: 1 },
        { key: 'queryMaxMs', label: 'max ms', digits: 1 },
        { key: 'queries', label: 'queries', digits: 0 },
      ],
      notes: (medians) => {
        const m = medians.get(run.name)!;
        const eventsMet = (m.largestRunEvents as number) < GOAL_EVENTS;
        const queryMet = (m.queryMedianMs as number) < GOAL_QUERY_MS;
        return [
          `goal: every parent run < ${GOAL_EVENTS} events: ${eventsMet ? 'met' : 'NOT met'}; progress query < ${GOAL_QUERY_MS} ms (median round trip through the server): ${queryMet ? 'met' : 'NOT met'}`,
          'a query waits for the parent workflow task in flight (and, just after a continue-as-new, for the new run to start on the worker): that, not the handler, makes the tail',
        ];
      },
    });
  } finally {
    await suite.env.teardown();
  }
}

export async function main(): Promise<void> {
  const only = process.env.BENCH_SHARDS_ONLY;
  if (only !== 'many') await emulatorTable();
  if (only !== 'emulator') await manyShardsTable();
}

runIfMain(module, main);

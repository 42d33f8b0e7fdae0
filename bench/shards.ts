// Mega-batches (docs/pipeline.md, "Sharding"), three tables:
// 1. On the emulator: 200,000 items (4,000 with BENCH_QUICK=1) as one run (baseline) vs the same file sharded
//    into 20 shards of 10,000 (4 of 1,000), two at once, round-robin over two emulated deployments. Wall time,
//    the parent's history events (all its runs, and its largest run), the worker's peak RSS.
// 2. On the Temporal dev server with the scripted API (10,000 real jobs do not fit 2 cores; the time-skipping
//    server slows down past a few thousand children): 10,000 shards of 100 items (1,000 with BENCH_QUICK=1), 100
//    at once, 2-second jobs. The parent's runs, its largest run's events (goal < 2,000), and the `progress`
//    query's latency while the worker and server run flat out.
// 3. Watching a 10,000-shard run as a user does: the same dev server, a worker with the product's default
//    settings, the scripted API with 10-minute jobs on the real clock, 100 shards running; the `progress` query
//    timed every 250 ms for a minute (goal < 100 ms), then the run cancelled (every shard cleaned up).
//   npx tsx bench/shards.ts      BENCH_QUICK=1 npx tsx bench/shards.ts
//   BENCH_SHARDS_ONLY=emulator|many|watch npx tsx bench/shards.ts
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { DEV_DEPLOYMENT_ID, DEV_PROJECT_ID, DEV_SECRET_KEY } from '../src/emulator';
import { startBatchPrediction } from '../src/run-client';
import { type BatchPredictionInput, type BatchPredictionResult, progressQuery } from '../src/workflows/definitions';
import { executionStats } from '../test/workflows/history-stats';
import { scriptedApi } from '../test/workflows/scripted-activities';
import { type Figures, median, QUICK, runBench, runIfMain } from './support/ab';
import { type PipelineStack, startBenchTemporal, startPipelineStack } from './support/pipeline-stack';

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
const WATCH_SHARDS = QUICK ? 1_000 : 10_000;
const WATCH_SAMPLING_MS = QUICK ? 20_000 : 60_000;
const WATCH_QUERY_EVERY_MS = 250;

/** Median, p95 and max of query round trips (ms), and how many. */
function latencyFigures(queryMs: number[]): Figures {
  if (queryMs.length === 0) return { queries: 0 };
  const sorted = [...queryMs].sort((a, b) => a - b);
  return {
    queryMedianMs: median(sorted),
    queryP95Ms: sorted[Math.floor(sorted.length * 0.95)],
    queryMaxMs: sorted[sorted.length - 1],
    queries: sorted.length,
  };
}

const LATENCY_COLUMNS = [
  { key: 'queryMedianMs', label: 'progress query median ms', digits: 1 },
  { key: 'queryP95Ms', label: 'p95 ms', digits: 1 },
  { key: 'queryMaxMs', label: 'max ms', digits: 1 },
  { key: 'queries', label: 'queries', digits: 0 },
];

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

/** The dev server, a client and the workflow bundle the last two tables share. */
interface DevServerBench {
  client: Client;
  nativeConnection: NativeConnection;
  workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
}

async function withDevServer(use: (bench: DevServerBench) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-shards-'));
  const temporal = await startBenchTemporal(dir);
  const connection = await Connection.connect({ address: temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  try {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      logger: new DefaultLogger('WARN'),
    });
    await use({ client: new Client({ connection }), nativeConnection, workflowBundle });
  } finally {
    await nativeConnection.close();
    await connection.close();
    await temporal.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A sharded run of `shards` x MANY_SHARD_ITEMS items against the scripted API, on a worker with the SDK's defaults. */
async function startShardedRun(
  bench: DevServerBench,
  shards: number,
  jobDurationMs: number,
  polling?: BatchPredictionInput['polling'],
) {
  const api = scriptedApi({ itemCount: shards * MANY_SHARD_ITEMS, jobDurationMs, client: bench.client });
  const taskQueue = `bench-shards-${randomUUID()}`;
  // The SDK's defaults, as `datature-batch worker` runs it.
  const worker = await Worker.create({
    connection: bench.nativeConnection,
    taskQueue,
    workflowBundle: bench.workflowBundle,
    activities: api.activities,
  });
  const input: BatchPredictionInput = {
    dataset: { ndjsonPath: '/scripted/items.ndjson' },
    job: { deploymentIds: ['deploy_a', 'deploy_b'], webhookIds: ['webhook_1'] },
    logs: { collect: false },
    sharding: { maxItemsPerShard: MANY_SHARD_ITEMS, maxParallelShards: MANY_PARALLEL },
    ...(polling ? { polling } : {}),
  };
  const handle = await bench.client.workflow.start('batchPrediction', {
    taskQueue,
    workflowId: `bench-shards-${randomUUID()}`,
    args: [input],
  });
  return { api, worker, handle };
}

/**
 * 10,000 shards to the end on the dev server: 2-second jobs on the real clock (looked at every second), so
 * the run is the parent's and the server's work, flat out. The parent's runs and their events, and the
 * `progress` query's latency meanwhile.
 */
async function manyShardsTable(bench: DevServerBench): Promise<void> {
  const run = {
    name: `${MANY_SHARDS.toLocaleString('en')} shards of ${MANY_SHARD_ITEMS}, ${MANY_PARALLEL} at once`,
    async run(): Promise<Figures> {
      const started = performance.now();
      const { worker, handle } = await startShardedRun(bench, MANY_SHARDS, 2_000, { minIntervalMs: 1_000 });
      const queryMs: number[] = [];
      let lastReport = Date.now();
      const result = await worker.runUntil(async () => {
        const ended = handle.result() as Promise<BatchPredictionResult>;
        let done = false;
        void ended.finally(() => {
          done = true;
        });
        // The progress query, timed every 2 s while shards run; a line on stderr every minute.
        const sampling = (async () => {
          while (!done) {
            await sleep(2_000);
            if (done) break;
            const t0 = performance.now();
            const progress = await handle.query(progressQuery).catch(() => undefined);
            if (!progress) continue;
            queryMs.push(performance.now() - t0);
            if (Date.now() - lastReport > 60_000) {
              lastReport = Date.now();
              process.stderr.write(`  ${JSON.stringify(progress.shards)} run ${progress.runsSoFar}\n`);
            }
          }
        })();
        const value = await ended;
        await sampling;
        return value;
      });
      const wallS = (performance.now() - started) / 1000;
      const stats = await executionStats(bench.client, handle.workflowId, handle.firstExecutionRunId);
      return {
        wallS,
        done: result.shards?.done ?? 0,
        runs: stats.runs,
        largestRunEvents: stats.largestRunEvents,
        events: stats.historyEvents,
        ...latencyFigures(queryMs),
      };
    },
  };
  await runBench({
    title: `shards: ${MANY_SHARDS.toLocaleString('en')} shards, the parent's history stays bounded (dev server, scripted API)`,
    setup: `${MANY_SHARDS} child runs of ${MANY_SHARD_ITEMS} items, ${MANY_PARALLEL} at once, against the scripted API (2-second jobs on the real clock, looked at every second), one in-process worker with the SDK's defaults, Temporal dev server, 2 shared cores`,
    rounds: 1,
    baseline: run,
    variants: [],
    columns: [
      { key: 'wallS', label: 'wall s' },
      { key: 'done', label: 'shards done', digits: 0 },
      { key: 'runs', label: 'parent runs', digits: 0 },
      { key: 'largestRunEvents', label: 'largest run events', digits: 0 },
      { key: 'events', label: 'events (all runs)', digits: 0 },
      ...LATENCY_COLUMNS,
    ],
    notes: (medians) => {
      const m = medians.get(run.name)!;
      const eventsMet = (m.largestRunEvents as number) < GOAL_EVENTS;
      return [
        `goal: every parent run < ${GOAL_EVENTS} events: ${eventsMet ? 'met' : 'NOT met'}`,
        'the worker and the server run flat out here (100 shards starting and ending every few seconds), so a query waits behind the workflow tasks queued before it: ' +
          'the next table times the query as a user watching a run meets it',
      ];
    },
  });
}

/**
 * A 10,000-shard run watched on the dev server: 100 shards running real-clock 10-minute jobs (scripted), the
 * worker as the product configures it, and the `progress` query timed while the parent takes the shards' reports.
 */
async function watchTable(bench: DevServerBench): Promise<void> {
  const run = {
    name: `${WATCH_SHARDS.toLocaleString('en')} shards of ${MANY_SHARD_ITEMS}, ${MANY_PARALLEL} running, watched`,
    async run(): Promise<Figures> {
      const { api, worker, handle } = await startShardedRun(bench, WATCH_SHARDS, 600_000);
      return worker.runUntil(async () => {
        // Untimed: until every one of the first shards has its job.
        const startedBy = Date.now() + 300_000;
        for (;;) {
          const progress = await handle.query(progressQuery);
          if ((progress.shards?.running ?? 0) >= MANY_PARALLEL && api.jobs.length >= MANY_PARALLEL) break;
          if (Date.now() > startedBy)
            throw new Error(`the first ${MANY_PARALLEL} shards did not start: ${JSON.stringify(progress.shards)}`);
          await sleep(1_000);
        }
        const queryMs: number[] = [];
        const looksBefore = api.calls.getJob ?? 0;
        const until = Date.now() + WATCH_SAMPLING_MS;
        let running = 0;
        while (Date.now() < until) {
          const t0 = performance.now();
          const progress = await handle.query(progressQuery);
          queryMs.push(performance.now() - t0);
          running = progress.shards?.running ?? 0;
          await sleep(WATCH_QUERY_EVERY_MS);
        }
        const looks = (api.calls.getJob ?? 0) - looksBefore;
        await handle.cancel();
        await handle.result().catch(() => undefined);
        const { status } = await handle.describe();
        return {
          ...latencyFigures(queryMs),
          running,
          looksPerS: looks / (WATCH_SAMPLING_MS / 1000),
          cancelled: `${status.name}, ${api.calls.cancelJob ?? 0} jobs cancelled`,
        };
      });
    },
  };
  await runBench({
    title: `shards: watching a ${WATCH_SHARDS.toLocaleString('en')}-shard run (dev server, scripted API on the real clock)`,
    setup:
      `${WATCH_SHARDS} shards of ${MANY_SHARD_ITEMS} items, ${MANY_PARALLEL} at once, 10-minute jobs; the parent's \`progress\` queried every ${WATCH_QUERY_EVERY_MS} ms ` +
      `for ${WATCH_SAMPLING_MS / 1000} s once ${MANY_PARALLEL} shards run; worker with the SDK's default settings (as \`datature-batch worker\`), Temporal dev server, 2 shared cores`,
    rounds: 1,
    baseline: run,
    variants: [],
    columns: [
      ...LATENCY_COLUMNS,
      { key: 'running', label: 'shards running', digits: 0 },
      { key: 'looksPerS', label: 'job looks per s', digits: 1 },
      { key: 'cancelled', label: 'after cancel' },
    ],
    notes: (medians) => {
      const m = medians.get(run.name)!;
      const met = (m.queryP95Ms as number) < GOAL_QUERY_MS;
      return [`goal: progress query < ${GOAL_QUERY_MS} ms at p95: ${met ? 'met' : 'NOT met'}`];
    },
  });
}

export async function main(): Promise<void> {
  const only = process.env.BENCH_SHARDS_ONLY;
  if (!only || only === 'emulator') await emulatorTable();
  if (only === 'emulator') return;
  await withDevServer(async (bench) => {
    if (!only || only === 'many') await manyShardsTable(bench);
    if (!only || only === 'watch') await watchTable(bench);
  });
}

runIfMain(module, main);

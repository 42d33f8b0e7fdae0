// Records the replay corpus: one history per path of the workflow, run on the time-skipping server against
// the scripted API (test/workflows/scripted-activities.ts), written to test/fixtures/histories/ as
// `<path>.<version>.json`. Run by hand when the workflow changes, never by the tests: an existing file is
// never overwritten (the old histories are what running executions look like, and must keep replaying).
// Usage: npx tsx scripts/record-histories.ts <version, e.g. 2026-11-30> [scenario …]
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { temporalCliPath } from '../src/dev/binaries';
import {
  BATCH_SEARCH_ATTRIBUTES,
  type BatchPredictionInput,
  type BatchProgress,
  TemporalScheduledByIdKey,
} from '../src/workflows/definitions';
import { type ScriptedOptions, scriptedApi, scriptedInput } from '../test/workflows/scripted-activities';
import { startTimeSkipping, type TimeSkipping } from '../test/workflows/time-skipping-env';

const HOUR = 3_600_000;
const fixturesDir = join(__dirname, '..', 'test', 'fixtures', 'histories');

interface Scenario {
  name: string;
  options: Omit<ScriptedOptions, 'client'>;
  input: unknown;
  /** Steers the run (e.g. cancels it once it reached a phase). */
  drive?: (handle: WorkflowHandle, suite: TimeSkipping) => Promise<void>;
  /** Child runs recorded too, by a suffix of their workflow id (e.g. a shard's run). */
  children?: string[];
}

async function untilPhase(handle: WorkflowHandle, phase: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    const progress = await handle.query<BatchProgress>('progress').catch(() => undefined);
    if (progress?.phase === phase) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never reached ${phase}`);
}

const cancelIn =
  (phase: string) =>
  async (handle: WorkflowHandle): Promise<void> => {
    // In waiting-for-job the run sleeps before its first look: the cancel ends that sleep.
    await untilPhase(handle, phase);
    await handle.signal('cancel', { reason: `recorded cancel in ${phase}` });
  };

const base = { itemCount: 20, jobDurationMs: HOUR };
const scenarios: Scenario[] = [
  { name: 'completed', options: base, input: scriptedInput() },
  { name: 'completed-with-receiver', options: base, input: scriptedInput({ receiverUrl: 'http://127.0.0.1:1/' }) },
  {
    name: 'continued-as-new',
    options: { itemCount: 200, jobDurationMs: 6 * HOUR },
    input: scriptedInput({ polling: { maxHistoryEvents: 60 } }),
  },
  { name: 'empty-source', options: { ...base, itemCount: 0 }, input: scriptedInput({ allowEmptySource: true }) },
  { name: 'invalid-input', options: base, input: { dataset: {}, job: {} } },
  {
    name: 'failed-before-job',
    options: {
      ...base,
      validateSourceFails: {
        message: 'invalid NDJSON dataset (1 error):\nline 2: not valid JSON',
        type: 'InvalidNdjson',
      },
    },
    input: scriptedInput(),
  },
  {
    name: 'failed-after-job',
    options: { ...base, getJobFails: { fromMs: 0, untilMs: 10 * HOUR, type: 'ApiNotFound', nonRetryable: true } },
    input: scriptedInput(),
  },
  {
    name: 'outage-waited-out',
    options: { ...base, getJobFails: { fromMs: 10 * 60_000, untilMs: 3 * HOUR, type: 'ApiUnavailable' } },
    input: scriptedInput(),
  },
  { name: 'adopted-job', options: base, input: { job: { jobId: 'job_adopted' }, logs: { collect: true } } },
  // A job with failed items (the scripted ones fail at predict): kept in the failed file, or run again in round 2.
  { name: 'failed-items-kept', options: { ...base, failEvery: 5 }, input: scriptedInput() },
  {
    name: 'failed-items-retried',
    options: { ...base, failEvery: 5 },
    input: scriptedInput({ retryFailedItems: { statuses: ['FailedPredict'], delayMs: 600_000 } }),
  },
  {
    name: 'failed-items-retried-continued',
    options: { itemCount: 200, jobDurationMs: 6 * HOUR, failEvery: 5 },
    input: scriptedInput({
      polling: { maxHistoryEvents: 60 },
      retryFailedItems: { statuses: ['FailedPredict'], delayMs: 0 },
    }),
  },
  {
    name: 'cancelled-validating',
    options: { ...base, blockIn: 'validateSource' },
    input: scriptedInput(),
    drive: cancelIn('validating'),
  },
  {
    name: 'cancelled-uploading',
    options: { ...base, blockIn: 'uploadDataset' },
    input: scriptedInput(),
    drive: cancelIn('uploading'),
  },
  {
    name: 'cancelled-waiting-for-dataset',
    options: { ...base, datasetProcessingMs: 10 * HOUR },
    input: scriptedInput(),
    drive: cancelIn('waiting-for-dataset'),
  },
  {
    name: 'cancelled-creating-job',
    options: { ...base, blockIn: 'createJob' },
    input: scriptedInput(),
    drive: cancelIn('creating-job'),
  },
  {
    name: 'cancelled-waiting-for-job',
    options: { ...base, jobDurationMs: 10 * HOUR },
    input: scriptedInput(),
    drive: cancelIn('waiting-for-job'),
  },
  {
    name: 'cancelled-collecting-logs',
    // A job of a second: its end is seen at the first look (a few seconds of real time: the clock is not skipped).
    options: { ...base, jobDurationMs: 1_000, blockIn: 'collectLogs' },
    input: scriptedInput(),
    drive: cancelIn('collecting-logs'),
  },
  {
    // The parent of three shards over two deployments, and its first shard's run (it reports to its parent).
    name: 'sharded',
    options: { itemCount: 30, jobDurationMs: 2 * HOUR },
    input: scriptedInput({
      job: { deploymentIds: ['deploy_a', 'deploy_b'], webhookIds: ['webhook_1'] },
      sharding: { maxItemsPerShard: 10, maxParallelShards: 2 },
    }),
    children: ['-shard-0'],
  },
  {
    name: 'sharded-continued-as-new',
    options: { itemCount: 24, jobDurationMs: HOUR },
    input: scriptedInput({
      job: { deploymentIds: ['deploy_a'], webhookIds: ['webhook_1'] },
      sharding: { maxItemsPerShard: 2, maxParallelShards: 3, maxHistoryEvents: 100 },
    }),
  },
];

async function record(suite: TimeSkipping, scenario: Scenario, version: string): Promise<string[]> {
  const api = scriptedApi({ ...scenario.options, client: suite.env.client });
  if (scenario.name === 'adopted-job') {
    const now = await suite.env.currentTimeMs();
    api.jobs.push({
      id: 'job_adopted',
      name: 'adopted',
      itemCount: 20,
      createdAt: now,
      startAt: now,
      durationMs: HOUR,
    });
  }
  const taskQueue = `record-${scenario.name}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.workflowBundle,
    activities: api.activities,
    maxHeartbeatThrottleInterval: '50 ms',
    defaultHeartbeatThrottleInterval: '50 ms',
  });
  const workflowId = `recorded-${scenario.name}`;
  const written: string[] = [];
  await worker.runUntil(async () => {
    const handle = await suite.env.client.workflow.start('batchPrediction', {
      taskQueue,
      workflowId,
      args: [scenario.input as BatchPredictionInput],
    });
    await scenario.drive?.(handle, suite);
    await handle.result().catch(() => undefined);
    // Every run of a continued execution is a history of its own.
    let runId: string | undefined = handle.firstExecutionRunId;
    for (let run = 1; runId; run++) {
      const history = await suite.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const suffix = run > 1 ? `-run${run}` : '';
      const path = join(fixturesDir, `${scenario.name}${suffix}.${version}.json`);
      if (existsSync(path)) throw new Error(`${path} exists: recorded histories are never overwritten`);
      writeFileSync(path, `${JSON.stringify(history, null, 2)}\n`);
      written.push(path);
      const last = history.events?.at(-1);
      runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    for (const suffix of scenario.children ?? []) {
      const history = await suite.env.client.workflow.getHandle(`${workflowId}${suffix}`).fetchHistory();
      const path = join(fixturesDir, `${scenario.name}${suffix}.${version}.json`);
      if (existsSync(path)) throw new Error(`${path} exists: recorded histories are never overwritten`);
      writeFileSync(path, `${JSON.stringify(history, null, 2)}\n`);
      written.push(path);
    }
  });
  return written;
}

/**
 * A run a schedule started (its TemporalScheduledById search attribute steers the first look): on the dev
 * server, the time-skipping server having no Schedules. The job lasts a second of real time.
 */
async function recordScheduled(version: string): Promise<string> {
  const path = join(fixturesDir, `schedule-started.${version}.json`);
  if (existsSync(path)) throw new Error(`${path} exists: recorded histories are never overwritten`);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      searchAttributes: BATCH_SEARCH_ATTRIBUTES,
    },
  });
  try {
    const api = scriptedApi({ itemCount: 5, jobDurationMs: 1_000, client: env.client });
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      logger: new DefaultLogger('WARN'),
    });
    const taskQueue = 'record-scheduled';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: api.activities,
    });
    return await worker.runUntil(async () => {
      const schedule = await env.client.schedule.create({
        scheduleId: 'recorded-schedule',
        spec: { intervals: [{ every: '1 day' }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'batchPrediction',
          taskQueue,
          // A first look at once: the default spread for scheduled runs (a minute) would only slow the recording.
          args: [scriptedInput({ polling: { firstLookSpreadMs: 0, minIntervalMs: 1_000 } })],
        },
        state: { paused: true },
      });
      await schedule.trigger();
      let workflowId: string | undefined;
      for (let i = 0; i < 200 && !workflowId; i++) {
        workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const handle = env.client.workflow.getHandle(workflowId!);
      await handle.result();
      const description = await handle.describe();
      if (!description.typedSearchAttributes.get(TemporalScheduledByIdKey))
        throw new Error('not started by the schedule');
      await schedule.delete();
      writeFileSync(path, `${JSON.stringify(await handle.fetchHistory(), null, 2)}\n`);
      return path;
    });
  } finally {
    await env.teardown();
  }
}

async function main() {
  const version = process.argv[2];
  if (!version || !/^[\w.-]+$/.test(version)) throw new Error('usage: npx tsx scripts/record-histories.ts <version>');
  const suite = await startTimeSkipping();
  try {
    const only = process.argv.slice(3);
    for (const scenario of scenarios.filter(({ name }) => only.length === 0 || only.includes(name))) {
      const written = await record(suite, scenario, version);
      console.log(`${scenario.name}: ${written.length} history file(s)`);
    }
    if (only.length === 0 || only.includes('schedule-started')) {
      await recordScheduled(version);
      console.log('schedule-started: 1 history file(s)');
    }
  } finally {
    await suite.env.teardown();
  }
}

// A promise nothing keeps alive would let node exit 0 half-way: say so instead.
process.on('beforeExit', () => {
  if (!finished) {
    console.error('stopped before every history was recorded');
    process.exitCode = 1;
  }
});
let finished = false;

main().then(
  () => {
    finished = true;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

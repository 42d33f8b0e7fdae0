// What watching a job costs on Temporal Cloud, per job shape: the real workflow on the time-skipping
// server against the scripted API (test/workflows/scripted-activities.ts: the job's counters follow the
// workflow clock), next to two baselines computed from the same shapes with the same counting rules:
// Temporal's retry-based polling (an activity failing until done, retried every 60 s) and the Python SDK's
// fixed 8 s poll written as a workflow loop (a look and a timer every 8 s).
// Usage: npx tsx bench/polling-cost.ts [--quick]   (--quick: fewer shapes and 20 runs for the tick)
// @bench: part of `npm run bench`; deterministic (the time-skipping clock), so one round is the figure.
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { queryIsDue } from '../src/cli/run-progress';
import {
  type BatchPhase,
  type BatchPredictionInput,
  type BatchPredictionResult,
  epochMsOf,
} from '../src/workflows/definitions';
import { type ExecutionStats, executionStats } from '../test/workflows/history-stats';
import {
  type ScriptedApi,
  type ScriptedOptions,
  scriptedApi,
  scriptedInput,
} from '../test/workflows/scripted-activities';
import { startTimeSkipping, type TimeSkipping } from '../test/workflows/time-skipping-env';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

interface Shape {
  name: string;
  itemCount: number;
  /** When the job's last item is accounted for, from its start. */
  endMs: number;
  itemsAt(ranMs: number): number;
  stall?: { fromMs: number; untilMs: number };
  /** The receiver signals checkNow when the last item lands. */
  receiver?: boolean;
}

const linear = (name: string, durationMs: number, itemCount = 1000): Shape => ({
  name,
  itemCount,
  endMs: durationMs,
  itemsAt: (ranMs: number) => Math.min(itemCount, Math.floor((itemCount * ranMs) / durationMs)),
});

const stallFrom = 0.99 * 2 * HOUR;
const shapes: Shape[] = [
  linear('10 min linear', 10 * MINUTE),
  linear('2 h linear', 2 * HOUR),
  linear('24 h linear', DAY),
  linear('3 days linear', 3 * DAY, 50_000),
  {
    name: '2 h, 1 h stall at 99 %',
    itemCount: 1000,
    endMs: stallFrom + HOUR,
    itemsAt: (ranMs: number) =>
      ranMs < stallFrom ? Math.floor((1000 * ranMs) / (2 * HOUR)) : ranMs < stallFrom + HOUR ? 990 : 1000,
    stall: { fromMs: stallFrom, untilMs: stallFrom + HOUR },
  },
  {
    name: '2 h, no progress until the end',
    itemCount: 1000,
    endMs: 2 * HOUR,
    itemsAt: (ms: number) => (ms >= 2 * HOUR ? 1000 : 0),
  },
  { ...linear('2 h linear + receiver', 2 * HOUR), receiver: true },
].filter((shape) => !quick || !/24 h|3 days/.test(shape.name));

/** Start, validate, upload, dataset look, job create, log collection, one upsert per phase: the same for all. */
const FIXED_ACTIONS = 1 + 5 + 7;

interface Row {
  shape: string;
  how: string;
  polls: number;
  actions: number;
  events: string;
  lagS: number;
  note?: string;
}

async function runShape(
  suite: TimeSkipping,
  shape: Shape,
): Promise<{ row: Row; api: ScriptedApi; result: BatchPredictionResult; stats: ExecutionStats }> {
  const options: Omit<ScriptedOptions, 'client'> = {
    itemCount: shape.itemCount,
    jobDurationMs: shape.endMs,
    shape: (ranMs) => shape.itemsAt(ranMs),
  };
  const api = scriptedApi({ ...options, client: suite.env.client });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.workflowBundle,
    activities: api.activities,
  });
  const workflowId = `bench-${randomUUID()}`;
  const input: BatchPredictionInput = scriptedInput();
  return worker.runUntil(async () => {
    const handle = await suite.env.client.workflow.start('batchPrediction', { taskQueue, workflowId, args: [input] });
    if (shape.receiver) {
      // The receiver's signal when the last prediction lands (the job starts within a second of the run).
      await suite.env.sleep(shape.endMs + 1_000);
      await handle.signal('checkNow', { from: 'receiver' });
    }
    const result = (await handle.result()) as BatchPredictionResult;
    const stats = await executionStats(suite.env.client, workflowId, handle.firstExecutionRunId);
    const jobEnd = api.jobs[0].startAt + shape.endMs;
    const stallPolls = shape.stall
      ? api.lookTimes.filter(
          (at) => at - api.jobs[0].startAt > shape.stall!.fromMs && at - api.jobs[0].startAt < shape.stall!.untilMs,
        ).length
      : undefined;
    const row: Row = {
      shape: shape.name,
      how: 'this workflow',
      polls: result.polls,
      actions: stats.billableActions,
      events: `${stats.historyEvents} (largest run ${stats.largestRunEvents})`,
      lagS: (epochMsOf(result.timings['waiting-for-job']!.endedAt!) - jobEnd) / 1000,
      note: [
        stallPolls !== undefined ? `${stallPolls} polls in the stall` : '',
        stats.signals ? `${stats.signals} signal` : '',
        stats.runs > 1 ? `${stats.runs} runs` : '',
      ]
        .filter(Boolean)
        .join(', '),
    };
    return { row, api, result, stats };
  });
}

/** The baselines' first look: when this workflow's first look would be, the minimum interval after the start. */
const BASELINE_FIRST_LOOK_MS = 5_000;

/** Looks until the end is seen, the first at `startMs`, then every `everyMs`. */
function fixedIntervalLooks(shape: Shape, startMs: number, everyMs: number): { looks: number } {
  let at = startMs;
  let looks = 1;
  while (shape.itemsAt(at) < shape.itemCount) {
    at += everyMs;
    looks += 1;
  }
  return { looks };
}

function baselines(shape: Shape): Row[] {
  // Retried activity: one action per attempt; only the last attempt is in history.
  const retried = fixedIntervalLooks(shape, BASELINE_FIRST_LOOK_MS, MINUTE);
  // A workflow loop: a look (3 events + a workflow task of 3) and a timer (2 events + a workflow task of 3).
  const fixed = fixedIntervalLooks(shape, BASELINE_FIRST_LOOK_MS, 8_000);
  const pipelineEvents = 60;
  return [
    {
      shape: shape.name,
      how: 'retry-based, 60 s',
      polls: retried.looks,
      actions: FIXED_ACTIONS + retried.looks,
      events: `≈ ${pipelineEvents + 6}`,
      lagS: MINUTE / 1000,
      note: 'lag: worst case',
    },
    {
      shape: shape.name,
      how: 'SDK loop, 8 s',
      polls: fixed.looks,
      actions: FIXED_ACTIONS + 2 * fixed.looks - 1,
      events: `≈ ${pipelineEvents + 11 * fixed.looks}`,
      lagS: 8,
      note: `lag: worst case${fixed.looks * 11 > 50_000 ? '; past the 50k-event limit without continue-as-new' : ''}`,
    },
  ];
}

/** Queries a `--wait` watch sends over the run, by the CLI's own rule, from the run's looks and phases. */
function watchQueries(result: BatchPredictionResult, lookTimes: number[]): number {
  const phaseStarts = Object.entries(result.timings)
    .map(([phase, timing]) => [phase as BatchPhase, epochMsOf(timing!.startedAt)] as const)
    .sort((a, b) => a[1] - b[1]);
  const start = phaseStarts[0][1];
  const end = epochMsOf(result.timings.completed!.startedAt);
  let queries = 0;
  let lastQueryAt: number | undefined;
  let queriedPhase: BatchPhase | undefined;
  let nextPollAt: number | undefined;
  for (let now = start; now <= end; now += 250) {
    const describedPhase = [...phaseStarts].reverse().find(([, at]) => at <= now)![0];
    if (queryIsDue({ now, lastQueryAt, queriedPhase, describedPhase, nextPollAt })) {
      queries += 1;
      lastQueryAt = now;
      queriedPhase = describedPhase;
      nextPollAt = lookTimes.find((at) => at > now);
    }
  }
  return queries + 1;
}

async function tick(
  suite: TimeSkipping,
  runs: number,
): Promise<{ maxPerSecond: number; seconds: number; looks: number }> {
  const api = scriptedApi({ itemCount: 1000, jobDurationMs: 2 * HOUR, client: suite.env.client });
  const taskQueue = `bench-tick-${randomUUID()}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.workflowBundle,
    activities: api.activities,
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  // What a schedule's runs get by default (the workflow sees TemporalScheduledById, which a client cannot set).
  const input = scriptedInput({ polling: { firstLookSpreadMs: 60_000 } });
  await worker.runUntil(async () => {
    const handles = await Promise.all(
      Array.from({ length: runs }, (_, i) =>
        suite.env.client.workflow.start('batchPrediction', {
          taskQueue,
          workflowId: `tick-${i}-${randomUUID()}`,
          args: [input],
        }),
      ),
    );
    // One skip of the server clock for all of them (a result() per run would each lock and unlock skipping).
    await suite.env.sleep(2 * HOUR + 10 * MINUTE);
    await Promise.all(handles.map((handle) => handle.result()));
  });
  const perSecond = new Map<number, number>();
  for (const at of api.lookTimes) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
  return { maxPerSecond: Math.max(...perSecond.values()), seconds: perSecond.size, looks: api.lookTimes.length };
}

function table(rows: Row[]): string {
  const header = ['shape', 'how', 'polls', 'billable actions', 'history events', 'detection lag', 'note'];
  const lines = rows.map((row) => [
    row.shape,
    row.how,
    String(row.polls),
    String(row.actions),
    row.events,
    `${row.lagS.toFixed(1)} s`,
    row.note ?? '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

async function main() {
  const suite = await startTimeSkipping();
  try {
    const rows: Row[] = [];
    let watch: { queries: number; polls: number } | undefined;
    for (const shape of shapes) {
      const { row, api, result } = await runShape(suite, shape);
      rows.push(row, ...(shape.receiver ? [] : baselines(shape)));
      if (shape.name === '2 h linear') watch = { queries: watchQueries(result, api.lookTimes), polls: result.polls };
      process.stderr.write(`  ${shape.name}: done\n`);
    }
    console.log(
      '\npolling cost per job shape (this workflow on the time-skipping server; baselines from the same shapes)\n',
    );
    console.log(table(rows));
    if (watch) {
      console.log(
        `\n\`--wait\` watch of the 2 h linear job: ${watch.queries} progress queries (the previous 300 ms watch: ${Math.round((2 * HOUR) / 300)})`,
      );
    }
    const runs = quick ? 20 : 100;
    const spread = await tick(suite, runs);
    console.log(
      `${runs} runs started by one tick (2 h jobs): ${spread.looks} looks over ${spread.seconds} distinct seconds, ` +
        `at most ${spread.maxPerSecond} in one second (${((100 * spread.maxPerSecond) / runs).toFixed(0)} % of the runs)`,
    );
  } finally {
    await suite.env.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

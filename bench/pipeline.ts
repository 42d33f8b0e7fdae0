// One batch end to end, 500 items with a 900 ms model (50 items, 200 ms with BENCH_QUICK=1): a script on
// the official Python SDK with its defaults (baseline) vs `datature-batch run --wait` vs a service calling
// startBatchPrediction + result(). Wall time, and detection lag: from the job's last item to the moment
// the flow noticed the job was done (the SDK's wait_until_done returning; the workflow's waiting-for-job
// phase ending).
//   npx tsx bench/pipeline.ts      BENCH_QUICK=1 npx tsx bench/pipeline.ts
import { Client, Connection } from '@temporalio/client';
import { startBatchPrediction } from '../src/run-client';
import type { BatchPredictionResult } from '../src/workflows/definitions';
import { check, type Figures, measure, QUICK, runBench, runIfMain } from './support/ab';
import { type PipelineStack, startPipelineStack } from './support/pipeline-stack';
import { CLI, PYTHON, ROOT } from './support/processes';

const ITEMS = Number(process.env.BENCH_PIPELINE_ITEMS ?? (QUICK ? 50 : 500));
const LATENCY_MS = QUICK ? 200 : 900;
const ROUNDS = QUICK ? 1 : 4;
const GOAL_RATIO = 0.7;
const GOAL_LAG_S = 2;

/** When the job's last item finished: the newest log entry's createTime. */
async function jobEnd(stack: PipelineStack, jobId: string): Promise<number> {
  const { entries } = await stack.datatureApi.jobs.logs(jobId, { maxEntries: 1 });
  return entries[0].createTime;
}

async function workflowFigures(stack: PipelineStack, wallS: number, result: BatchPredictionResult): Promise<Figures> {
  const endedAt = result.timings['waiting-for-job']?.endedAt;
  const noticed = endedAt === undefined ? Number.NaN : Date.parse(endedAt);
  return {
    wallS,
    lagS: (noticed - (await jobEnd(stack, result.jobId!))) / 1000,
    entries: result.logs?.entries ?? 0,
  };
}

export async function main(): Promise<void> {
  const stack = await startPipelineStack({ modelLatencyMs: LATENCY_MS, tickIntervalMs: 100 });
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    await stack.startWorker('worker-1');
    const client = new Client({ connection });
    const file = stack.writeItems('items.ndjson', ITEMS);
    const { emulator, webhookId, env } = stack;

    const sdk = {
      name: 'Python SDK script (defaults)',
      async run() {
        const run = check(
          await measure(
            PYTHON,
            [
              `${__dirname}/support/sdk_pipeline.py`,
              emulator.projectId,
              emulator.secretKey,
              emulator.deploymentId,
              webhookId,
              file,
            ],
            { env },
          ),
          'sdk pipeline',
        );
        const out = JSON.parse(/\{"jobId".*\}/.exec(run.stdout)![0]) as {
          jobId: string;
          noticedMs: number;
          entries: number;
        };
        return {
          wallS: run.wallS,
          lagS: (out.noticedMs - (await jobEnd(stack, out.jobId))) / 1000,
          entries: out.entries,
        };
      },
    };
    const cli = {
      name: '`datature-batch run --wait`',
      async run() {
        const run = check(
          await measure(
            process.execPath,
            [CLI, 'run', file, '--deployment', emulator.deploymentId, '--webhook', webhookId, '--wait', '--json'],
            { env, cwd: ROOT },
          ),
          'run --wait',
        );
        const { result } = JSON.parse(run.stdout) as { result: BatchPredictionResult };
        return workflowFigures(stack, run.wallS, result);
      },
    };
    const service = {
      name: 'startBatchPrediction + result()',
      async run() {
        const started = performance.now();
        const handle = await startBatchPrediction(client, {
          dataset: { ndjsonPath: file },
          job: { deploymentId: emulator.deploymentId, webhookIds: [webhookId] },
          // As the CLI's run and the SDK script do: the run ends with every log entry in a file.
          logs: { collect: true },
        });
        const result = (await handle.result()) as BatchPredictionResult;
        return workflowFigures(stack, (performance.now() - started) / 1000, result);
      },
    };
    // Untimed: a fresh worker's first workflow pays a one-time start (seconds on a loaded machine) that a
    // long-lived worker pays once; without this, whichever workflow variant runs first in round 1 carries it.
    await (
      await startBatchPrediction(client, {
        dataset: { ndjsonPath: stack.writeItems('warm-up.ndjson', 5) },
        job: { deploymentId: emulator.deploymentId, webhookIds: [webhookId] },
      })
    ).result();
    const hasSdk = (await import('node:fs')).existsSync(PYTHON);
    if (!hasSdk) console.error(`no ${PYTHON}: run \`npm run bootstrap -- --with-python-sdk\` for the SDK baseline`);
    await runBench({
      title: 'pipeline: one batch end to end',
      setup: `${ITEMS} items, model ${LATENCY_MS} ms per item, emulator and one worker in their own processes (warmed up by one untimed 5-item run), Temporal dev server, loopback`,
      rounds: ROUNDS,
      baseline: hasSdk ? sdk : cli,
      variants: hasSdk ? [cli, service] : [service],
      columns: [
        { key: 'wallS', label: 'wall s', ratio: true },
        { key: 'lagS', label: 'detection lag s', digits: 2 },
        { key: 'entries', label: 'log entries', digits: 0 },
      ],
      notes: (medians) => {
        const base = medians.get((hasSdk ? sdk : cli).name)!.wallS as number;
        return [
          `goal: wall time <= ${GOAL_RATIO}x the SDK's, detection < ${GOAL_LAG_S} s: ${[cli, service]
            .filter((variant) => medians.has(variant.name))
            .map((variant) => {
              const m = medians.get(variant.name)!;
              const met = (m.wallS as number) <= GOAL_RATIO * base && (m.lagS as number) < GOAL_LAG_S;
              return `${variant.name} ${met ? 'met' : 'NOT met'}`;
            })
            .join(', ')}`,
        ];
      },
    });
  } finally {
    await connection.close();
    await stack.close();
  }
}

runIfMain(module, main);

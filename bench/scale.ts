// Many small batches at once: 200, then 1,000 concurrent 10-item pipelines (20 and 50 with BENCH_QUICK=1)
// on one worker process (baseline), then on two on the same task queue. Time until all ended, failed
// runs, and per worker: peak RSS and CPU. Each round starts fresh worker processes.
//   npx tsx bench/scale.ts      BENCH_QUICK=1 npx tsx bench/scale.ts      BENCH_SCALE_SIZES=200 ...
import { Client, Connection } from '@temporalio/client';
import { startBatchPrediction } from '../src/run-client';
import { type Figures, QUICK, runBench, runIfMain } from './support/ab';
import { type PipelineStack, startPipelineStack } from './support/pipeline-stack';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? (QUICK ? '20,50' : '200,1000')).split(',').map(Number);
const ITEMS_PER_PIPELINE = 10;
/** A 1,000-pipeline run takes 7 to 8 minutes on 2 cores: one round of it keeps the whole bench under an hour. */
const roundsFor = (pipelines: number) => (QUICK || pipelines >= 1000 ? 1 : 2);
const GOAL_RSS_MIB = 1024;

async function runPipelines(
  stack: PipelineStack,
  client: Client,
  workers: number,
  pipelines: number,
): Promise<Figures> {
  const started = await Promise.all(Array.from({ length: workers }, (_, i) => stack.startWorker(`worker-${i + 1}`)));
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: pipelines }, async (_, p) => {
      const handle = await startBatchPrediction(client, {
        dataset: {
          items: Array.from({ length: ITEMS_PER_PIPELINE }, (_, i) => ({
            kind: 'Image' as const,
            url: `${stack.images}/scale/${p}/${i}.png`,
          })),
        },
        job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
        logs: { collect: true },
      });
      return handle.result();
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const perWorker = await Promise.all(started.map((worker) => worker.stop()));
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length) console.error(`  first failure: ${(failures[0] as PromiseRejectedResult).reason}`);
  return {
    wallS,
    failures: failures.length,
    peakRssMiB: Math.max(...perWorker.map((w) => w.peakRssMiB)),
    cpuS: perWorker.reduce((total, w) => total + w.cpuS, 0) / perWorker.length,
  };
}

export async function main(): Promise<void> {
  const stack = await startPipelineStack({ modelLatencyMs: 100, tickIntervalMs: 100 });
  const connection = await Connection.connect({ address: stack.temporal.address });
  try {
    const client = new Client({ connection });
    for (const pipelines of SIZES) {
      const one = { name: '1 worker', run: () => runPipelines(stack, client, 1, pipelines) };
      const two = { name: '2 workers, same task queue', run: () => runPipelines(stack, client, 2, pipelines) };
      await runBench({
        title: `scale: ${pipelines.toLocaleString('en')} concurrent ${ITEMS_PER_PIPELINE}-item pipelines`,
        setup: `${pipelines} workflows started at once with inline items, model 100 ms, emulator in its own process, worker processes started fresh each round, Temporal dev server, loopback`,
        rounds: roundsFor(pipelines),
        baseline: one,
        variants: [two],
        columns: [
          { key: 'wallS', label: 'all ended, s', ratio: true },
          { key: 'failures', label: 'failed runs', digits: 0 },
          { key: 'peakRssMiB', label: 'peak RSS per worker MiB (max)', digits: 0 },
          { key: 'cpuS', label: 'CPU s per worker', digits: 1 },
        ],
        notes: (medians) => {
          const m = medians.get(one.name)!;
          const met = m.failures === 0 && (m.peakRssMiB as number) <= GOAL_RSS_MIB;
          return [
            `goal (1,000 on one worker): no failure, RSS <= ${GOAL_RSS_MIB} MiB: ${pipelines}: ${met ? 'met' : 'NOT met'}`,
          ];
        },
      });
    }
  } finally {
    await connection.close();
    await stack.close();
  }
}

runIfMain(module, main);

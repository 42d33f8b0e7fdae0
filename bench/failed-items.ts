// What retry rounds of failed items cost (issue 12, part 5), on the two 1,000-item runs of the e2e test
// (test/e2e/failed-items-runs.ts): 5 % transient gather + 2 % transient delivery failures, and 3 %
// permanent failures (404 URLs). Baseline: `retryFailedItems: { maxRounds: 0 }` (the failed items are only
// written to <run>.failed.ndjson); variant: the default one round (delayMs 0, so the time is the rounds' own).
// Real Temporal dev server, emulator (model latency 0) and receiver over loopback; an in-process worker.
//   npx tsx bench/failed-items.ts      BENCH_QUICK=1 npx tsx bench/failed-items.ts
import { join } from 'node:path';
import { createWorker } from '../src/worker';
import type { RetryFailedItemsInput } from '../src/workflows/definitions';
import { runScenario, type Scenario, writeScenarioDataset } from '../test/e2e/failed-items-runs';
import { type E2eStack, startE2eStack } from '../test/e2e/harness';
import { type Figures, QUICK, runBench, runIfMain } from './support/ab';

const TASK_QUEUE = 'bench-failed-items';
const ROUNDS = QUICK ? 1 : 3;

function variant(stack: E2eStack, scenario: Scenario, name: string, retry: RetryFailedItemsInput) {
  const { path } = writeScenarioDataset(stack, scenario);
  return {
    name,
    async run(round: number): Promise<Figures> {
      const run = await runScenario(stack, TASK_QUEUE, scenario, {
        workflowId: `bench-${scenario}-${name.replace(/\W+/g, '-')}-${round}`,
        dataset: path,
        retryFailedItems: retry,
      });
      const { result, stats } = run;
      return {
        wallS: run.wallMs / 1000,
        apiCalls: run.apiCalls,
        actions: stats.billableActions,
        events: stats.historyEvents,
        activities: stats.activityAttempts,
        rounds: result.rounds?.length ?? 1,
        delivered: result.items?.delivered ?? result.job?.items.delivered ?? 0,
        failed: result.items?.failed ?? 0,
      };
    },
  };
}

export async function main(): Promise<void> {
  const stack = await startE2eStack();
  const worker = await createWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace,
    taskQueue: TASK_QUEUE,
    datature: { secretKey: stack.emulator.secretKey, projectId: stack.emulator.projectId, baseUrl: stack.emulator.url },
    logsDir: join(stack.dir, 'logs'),
  });
  const running = worker.run();
  try {
    for (const [scenario, title] of [
      ['transient', '1,000 items, 5 % transient gather + 2 % transient delivery failures'],
      ['permanent', '1,000 items, 3 % permanent failures (404 URLs)'],
    ] as const) {
      await runBench({
        title: `failed items: ${title}`,
        setup: 'emulator model latency 0, polls 1-2 s, logs collected, receiver check',
        rounds: ROUNDS,
        baseline: variant(stack, scenario, 'no retry round (maxRounds 0)', { maxRounds: 0, delayMs: 0 }),
        variants: [variant(stack, scenario, 'one retry round (default)', { delayMs: 0 })],
        columns: [
          { key: 'rounds', label: 'rounds', digits: 0 },
          { key: 'delivered', label: 'delivered', digits: 0 },
          { key: 'failed', label: 'still failed', digits: 0 },
          { key: 'apiCalls', label: 'API calls', digits: 0, ratio: true },
          { key: 'actions', label: 'Temporal actions', digits: 0, ratio: true },
          { key: 'events', label: 'history events', digits: 0, ratio: true },
          { key: 'activities', label: 'activity attempts', digits: 0 },
          { key: 'wallS', label: 'wall s', ratio: true },
        ],
        notes: (medians) => {
          const base = medians.get('no retry round (maxRounds 0)')!;
          const retry = medians.get('one retry round (default)')!;
          const extra = (key: string) => Number(retry[key]) - Number(base[key]);
          return [
            `The round costs ${extra('apiCalls')} API calls, ${extra('actions')} Temporal actions, ` +
              `${extra('events')} history events and ${extra('wallS').toFixed(1)} s ` +
              `(the default delayMs of 60 s before a round is not included).`,
          ];
        },
      });
    }
  } finally {
    worker.shutdown();
    await running;
    await stack.close();
  }
}

runIfMain(module, main);

// The two 1,000-item runs of issue 12, shared by the e2e test (test/e2e/failed-items.test.ts) and the cost
// bench (bench/failed-items.ts): one with 5 % transient gather and 2 % transient delivery failures (the
// emulator's seeded flakyItems), one with 3 % permanent failures (30 URLs that answer 404).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBatchPrediction } from '../../src/run-client';
import type { BatchPredictionResult, RetryFailedItemsInput } from '../../src/workflows/definitions';
import { type ExecutionStats, executionStats } from '../workflows/history-stats';
import type { E2eStack } from './harness';

export const ITEMS = 1000;
export const PERMANENT_FAILURES = 30;
export type Scenario = 'transient' | 'permanent';

/** 5 % of the items fail their first gather, another 2 % their first delivery (one seed: disjoint items). */
export const TRANSIENT_FAULTS = {
  flakyItems: [
    { rate: 0.05, stages: ['gather'], failAttempts: 1, seed: 12 },
    { rate: 0.02, stages: ['deliver'], failAttempts: 1, seed: 12 },
  ],
};

/** The dataset file of a scenario; for `permanent`, every 33rd item (30 of them) is a URL that answers 404. */
export function writeScenarioDataset(stack: E2eStack, scenario: Scenario): { path: string; missing: string[] } {
  const path = stack.writeDataset(`${scenario}.ndjson`, ITEMS);
  if (scenario === 'transient') return { path, missing: [] };
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const missing: string[] = [];
  for (let i = 0; i < PERMANENT_FAILURES; i++) {
    const url = `${stack.files.url}/missing-${i}.png`;
    lines[i * 33] = JSON.stringify({ kind: 'Image', url });
    missing.push(url);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, missing };
}

export interface ScenarioRun {
  workflowId: string;
  result: BatchPredictionResult;
  wallMs: number;
  /** Requests the worker sent to the batch API (uploads included). */
  apiCalls: number;
  stats: ExecutionStats;
}

/** Counts this process's undici requests to the emulator's API: the in-process worker's calls. */
function countApiCalls(emulatorUrl: string): { stop(): number } {
  const origin = new URL(emulatorUrl).origin;
  let calls = 0;
  const onCreate = (message: unknown) => {
    const { request } = message as { request: { origin?: unknown; path: string } };
    if (request.origin && new URL(String(request.origin)).origin === origin && !request.path.startsWith('/_emulator')) {
      calls++;
    }
  };
  subscribe('undici:request:create', onCreate);
  return {
    stop() {
      unsubscribe('undici:request:create', onCreate);
      return calls;
    },
  };
}

export async function runScenario(
  stack: E2eStack,
  taskQueue: string,
  scenario: Scenario,
  options: { workflowId: string; dataset: string; retryFailedItems: RetryFailedItemsInput },
): Promise<ScenarioRun> {
  await stack.setFaults(scenario === 'transient' ? TRANSIENT_FAULTS : {});
  const counter = countApiCalls(stack.emulator.url);
  const started = Date.now();
  try {
    const handle = await startBatchPrediction(
      stack.env.client,
      {
        dataset: { ndjsonPath: options.dataset },
        job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
        polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
        logs: { collect: true },
        receiverUrl: stack.receiver.url,
        retryFailedItems: options.retryFailedItems,
      },
      { taskQueue, workflowId: options.workflowId },
    );
    const result = await handle.result();
    const wallMs = Date.now() - started;
    const apiCalls = counter.stop();
    const stats = await executionStats(stack.env.client, handle.workflowId, handle.firstExecutionRunId);
    return { workflowId: handle.workflowId, result, wallMs, apiCalls, stats };
  } finally {
    counter.stop();
    await stack.setFaults({});
  }
}

/** What the receiver stored for these jobs: one line per prediction it accepted. */
export function receivedItems(stack: E2eStack, jobIds: string[]): string[] {
  const jobs = new Set(jobIds);
  return readFileSync(join(stack.dir, 'predictions.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { jobId: string; item: { url: string } })
    .filter((record) => jobs.has(record.jobId))
    .map((record) => record.item.url);
}

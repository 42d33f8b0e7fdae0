import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalCliPath } from '../../src/dev/binaries';
import {
  BATCH_SEARCH_ATTRIBUTES,
  type BatchPredictionInput,
  type BatchPredictionResult,
} from '../../src/workflows/definitions';

/**
 * The real dev server for the whole test file, as the time-skipping server has no Schedules. Returns a getter
 * because the server exists only once beforeAll has run.
 */
export function useScheduleServer(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        ip: '127.0.0.1',
        searchAttributes: BATCH_SEARCH_ATTRIBUTES,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('the Temporal dev server has not started (or failed to)');
    return env;
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The workflow id of the schedule's run number `runIndex` (0-based), once the schedule has started it. */
export function nthRunId(client: Client, scheduleId: string, runIndex: number): Promise<string> {
  return eventually(`run ${runIndex} of ${scheduleId}`, async () => {
    const { info } = await client.schedule.getHandle(scheduleId).describe();
    return info.recentActions[runIndex]?.action.workflow.workflowId;
  });
}

export async function resultOf(client: Client, workflowId: string): Promise<BatchPredictionResult> {
  return client.workflow
    .getHandle<(input: BatchPredictionInput) => Promise<BatchPredictionResult>>(workflowId)
    .result();
}

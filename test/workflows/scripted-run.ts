// One run of `batchPrediction` on the time-skipping server against a scripted API: a worker of its own task
// queue, the run started, steered by `drive` while it goes, awaited (result or failure), and its history's
// counts. What the wait, outage and error suites share.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { BatchPredictionResult } from '../../src/workflows/definitions';
import { type ExecutionStats, executionStats } from './history-stats';
import type { ScriptedApi } from './scripted-activities';
import type { TimeSkipping } from './time-skipping-env';

export interface ScriptedRun {
  result?: BatchPredictionResult;
  error?: unknown;
  stats: ExecutionStats;
  workflowId: string;
}

/** `input` is unknown: a test may hand the workflow something the schema refuses. */
export async function runScripted(
  suite: TimeSkipping,
  api: ScriptedApi,
  input: unknown,
  drive?: (handle: WorkflowHandle) => Promise<void>,
): Promise<ScriptedRun> {
  const taskQueue = `scripted-${randomUUID()}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    taskQueue,
    workflowBundle: suite.workflowBundle,
    activities: api.activities,
  });
  const workflowId = `batch-${randomUUID()}`;
  return worker.runUntil(async () => {
    const handle = await suite.env.client.workflow.start('batchPrediction', { taskQueue, workflowId, args: [input] });
    await drive?.(suite.env.client.workflow.getHandle(workflowId));
    const outcome = await handle.result().then(
      (result: BatchPredictionResult) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    const stats = await executionStats(suite.env.client, workflowId, handle.firstExecutionRunId);
    return { ...outcome, stats, workflowId };
  });
}

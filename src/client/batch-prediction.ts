import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { batchPrediction } from '../workflows';
import {
  type BatchPredictionInput,
  type BatchProgress,
  cancelSignal,
  DEFAULT_TASK_QUEUE,
  progressQuery,
  WORKFLOW_TYPE,
} from '../workflows/definitions';
import { parseBatchPredictionInput } from './input';

export type BatchPredictionHandle = WorkflowHandle<typeof batchPrediction>;

/** Validates the input with the zod schema, then starts a run (default id: `batch-<uuid>`). */
export async function startBatchPrediction(
  client: Client,
  input: BatchPredictionInput,
  options: { workflowId?: string; taskQueue?: string } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof batchPrediction>> {
  const args: [BatchPredictionInput] = [parseBatchPredictionInput(input)];
  return client.workflow.start<typeof batchPrediction>(WORKFLOW_TYPE, {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: options.workflowId ?? `batch-${crypto.randomUUID()}`,
    args,
  });
}

export function getProgress(handle: WorkflowHandle): Promise<BatchProgress> {
  return handle.query(progressQuery);
}

/** The same cleanup as `handle.cancel()`, with a reason recorded in the progress and history. */
export function cancelBatchPrediction(handle: WorkflowHandle, reason?: string): Promise<void> {
  return handle.signal(cancelSignal, { reason });
}

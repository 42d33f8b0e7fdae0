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
import { type BatchPredictionInputAccepted, isParsedBatchPredictionInput, parseBatchPredictionInput } from './input';
import { describeRun } from './run-description';

export type BatchPredictionHandle = WorkflowHandle<typeof batchPrediction>;

/**
 * Validates the input with the zod schema (times normalised to ISO-8601; an input `parseBatchPredictionInput`
 * already returned is taken as it is, so a caller that checks early does not check twice), then starts a run (default id:
 * `batch-<uuid>`) with its Web UI summary and details and its first `BatchPhase`, so the run is filterable at once.
 */
export async function startBatchPrediction(
  client: Client,
  input: BatchPredictionInputAccepted | BatchPredictionInput,
  options: { workflowId?: string; taskQueue?: string } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof batchPrediction>> {
  const parsed = isParsedBatchPredictionInput(input) ? input : parseBatchPredictionInput(input);
  const args: [BatchPredictionInput] = [parsed];
  return client.workflow.start<typeof batchPrediction>(WORKFLOW_TYPE, {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: options.workflowId ?? `batch-${crypto.randomUUID()}`,
    args,
    ...describeRun(parsed),
  });
}

export function getProgress(handle: WorkflowHandle): Promise<BatchProgress> {
  return handle.query(progressQuery);
}

/** The same cleanup as `handle.cancel()`, with a reason recorded in the progress and history. */
export function cancelBatchPrediction(handle: WorkflowHandle, reason?: string): Promise<void> {
  return handle.signal(cancelSignal, { reason });
}

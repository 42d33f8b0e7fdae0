// The Temporal Nexus contract of the batch-prediction worker: the service and operation names and their input
// and output types, for callers in other namespaces (`createNexusServiceClient` in their workflows). Safe in
// workflow code: no I/O, no Node imports. The worker registers the handlers (./handlers).
import * as nexus from 'nexus-rpc';
import type { BatchPredictionInputAccepted } from '../run-client';
import type { BatchPredictionInput, BatchPredictionResult, BatchProgress } from '../workflows/definitions';

export interface RunBatchPredictionRequest {
  /** Validated like `startBatchPrediction`'s: a bad input is a BAD_REQUEST handler error naming the field. */
  input: BatchPredictionInputAccepted | BatchPredictionInput;
  /**
   * The run's workflow id in the worker's namespace; give one to ask for `progress` while it runs.
   * Default `batch-nexus-<request id>` (a retried start request finds the run it started).
   */
  workflowId?: string;
}

export interface ProgressRequest {
  /** The `workflowId` the run was started with. */
  workflowId: string;
}

export const datatureBatchService = nexus.service('datatureBatch', {
  /** Runs the `batchPrediction` workflow and returns its result; cancelling the operation cancels the run (cleanup included). */
  runBatchPrediction: nexus.operation<RunBatchPredictionRequest, BatchPredictionResult>(),
  /** The run's progress query, answered at once. */
  progress: nexus.operation<ProgressRequest, BatchProgress>(),
});

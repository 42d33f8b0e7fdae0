// `datature-batch-worker/client`: what another service needs to start, watch and cancel batch predictions
// (or call them through Temporal Nexus), without loading the worker, the emulator or native modules.

export { datatureBatchService, type ProgressRequest, type RunBatchPredictionRequest } from './nexus-service';
export * from './run-client';
export { type TemporalConnectionOptions, temporalConnectionOptions } from './run-client/connection';
export {
  type BatchPhase,
  type BatchPredictionInput,
  type BatchPredictionResult,
  type BatchProgress,
  type CancelRequest,
  cancelSignal,
  checkNowSignal,
  DEFAULT_NAMESPACE,
  DEFAULT_TASK_QUEUE,
  progressQuery,
  WORKFLOW_TYPE,
} from './workflows/definitions';

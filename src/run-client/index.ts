// Give your Client these interceptors (`new Client({ connection, interceptors: clientTracingInterceptors(tracing) })`)
// and a run you start opens the trace the worker continues; `tracingFromEnv` follows the OTEL_* variables.
export { clientTracingInterceptors, startTracing, type Tracing, tracingFromEnv } from '../telemetry';
export {
  type BatchPredictionHandle,
  cancelBatchPrediction,
  getProgress,
  startBatchPrediction,
} from './batch-prediction';
export { checkNow, checkNowNotifier } from './check-now';
export {
  BatchInputError,
  type BatchPredictionInputAccepted,
  BatchPredictionInputSchema,
  batchPredictionInputJsonSchema,
  MAX_INLINE_ITEMS,
  parseBatchPredictionInput,
} from './input';
export { describeModel, describeRun, describeSource, type RunDescription } from './run-description';

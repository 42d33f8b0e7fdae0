// Give your Client these interceptors (`new Client({ connection, interceptors: clientTracingInterceptors(tracing) })`)
// and a run you start opens the trace the worker continues; `tracingFromEnv` follows the OTEL_* variables.

// The payload codec (docs/codec.md): `connectBatchClient({ codecKeysPath })`, or your own Client given
// `dataConverter: codecDataConverter({ keysPath })`; the runs it starts are stored encrypted.
export {
  type CodecKeysSource,
  codecDataConverter,
  dataConverterFromEnv,
  EncryptionCodec,
  loadCodecKeys,
  startCodecServer,
} from '../codec';
export { clientTracingInterceptors, startTracing, type Tracing, tracingFromEnv } from '../telemetry';
export { type BatchClient, type BatchClientOptions, batchDataConverter, connectBatchClient } from './batch-client';
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

export {
  type BatchPredictionHandle,
  cancelBatchPrediction,
  getProgress,
  startBatchPrediction,
} from './batch-prediction';
export { checkNow, checkNowNotifier } from './check-now';
export {
  BatchInputError,
  BatchPredictionInputSchema,
  batchPredictionInputJsonSchema,
  MAX_INLINE_ITEMS,
  parseBatchPredictionInput,
} from './input';

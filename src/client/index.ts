export {
  type BatchPredictionHandle,
  cancelBatchPrediction,
  getProgress,
  startBatchPrediction,
} from './batch-prediction';
export {
  BatchInputError,
  BatchPredictionInputSchema,
  batchPredictionInputJsonSchema,
  MAX_INLINE_ITEMS,
  parseBatchPredictionInput,
} from './input';

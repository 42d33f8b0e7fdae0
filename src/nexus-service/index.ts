// The `datatureBatch` Nexus contract, safe to import in a caller's workflow code (the package's `./nexus`).
// The worker registers the handlers of ./handlers, which need a worker process.
export { datatureBatchService, type ProgressRequest, type RunBatchPredictionRequest } from './definition';

// The workflow bundle's entry point (workflowsPath): only workflow functions are exported here.
export { batchPrediction } from './batch-prediction';

import type { WorkflowHandle } from '@temporalio/client';
import { datasetArgumentSource } from '../run-client/dataset-argument';
import type {
  BatchPredictionInput,
  PollingInput,
  RetryFailedItemsInput,
  ShardingInput,
} from '../workflows/definitions';
import { UsageError } from './errors';
import type { TemporalSession } from './temporal-client';

/** What `run` and `demo` ask for, in CLI terms. */
export interface RunRequest {
  name?: string;
  /** An NDJSON file the worker can read (made absolute here), or an http(s) URL of one (none with `jobId`). */
  dataset?: string;
  /** Adopt this existing job instead of uploading and creating one. */
  jobId?: string;
  deploymentId?: string;
  /** With `sharding`: the shards go round-robin over these (instead of `deploymentId`). */
  deploymentIds?: string[];
  artifactId?: string;
  webhookIds: string[];
  sharding?: ShardingInput;
  /** ISO-8601. */
  startAt?: string;
  stopAt?: string;
  /** Receiver the workflow asks for its count after the job (the demo's check). */
  receiverUrl?: string;
  /** A folder inside the worker's logs directory for the job's log entries (NDJSON); default: that directory. */
  logsDirectory?: string;
  /** Job polling bounds; the demo polls often so its progress bars move. */
  polling?: PollingInput;
  /** `--retry-failed <n>`, `--retry-statuses`: the input's retryFailedItems (absent: its defaults). */
  retryFailedItems?: RetryFailedItemsInput;
}

export function toBatchPredictionInput(request: RunRequest): BatchPredictionInput {
  const logs = { collect: true, directory: request.logsDirectory };
  if (request.jobId)
    return { job: { jobId: request.jobId }, polling: request.polling, logs, receiverUrl: request.receiverUrl };
  return {
    dataset: datasetArgumentSource(request.dataset ?? ''),
    job: {
      name: request.name,
      deploymentId: request.deploymentId,
      deploymentIds: request.deploymentIds,
      artifactId: request.artifactId,
      webhookIds: request.webhookIds,
      // ISO-8601 as given (the flags are checked as times); the schema normalises them.
      startAtTime: request.startAt || undefined,
      stopAtTime: request.stopAt || undefined,
    },
    polling: request.polling,
    logs,
    receiverUrl: request.receiverUrl,
    retryFailedItems: request.retryFailedItems,
    sharding: request.sharding,
  };
}

/**
 * Validates the request with the client's input schema before anything connects: bad input is a usage
 * error. The one check of the run's input: `startRun` (through startBatchPrediction) takes it as it is.
 */
export function checkRunRequest(request: RunRequest): BatchPredictionInput {
  const { BatchInputError, parseBatchPredictionInput } = require('../run-client') as typeof import('../run-client');
  try {
    return parseBatchPredictionInput(toBatchPredictionInput(request));
  } catch (err) {
    if (err instanceof BatchInputError) throw new UsageError(err.message);
    throw err;
  }
}

/** Starts a batchPrediction run through src/run-client on the configured task queue, with the checked input. */
export async function startRun(
  session: TemporalSession,
  input: BatchPredictionInput,
  workflowId?: string,
): Promise<WorkflowHandle> {
  const { startBatchPrediction } = require('../run-client') as typeof import('../run-client');
  return startBatchPrediction(session.client, input, { taskQueue: session.config.taskQueue, workflowId });
}

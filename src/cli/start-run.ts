import type { WorkflowHandle } from '@temporalio/client';
import type { BatchPredictionInput, PollingInput, ShardingInput } from '../workflows/definitions';
import { UsageError } from './errors';
import type { TemporalSession } from './temporal-client';

/** What `run` and `demo` ask for, in CLI terms. */
export interface RunRequest {
  workflowId?: string;
  name?: string;
  /** Absolute path of an NDJSON file the worker can read, or an http(s) URL of one (none with `jobId`). */
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
}

export function toBatchPredictionInput(request: RunRequest): BatchPredictionInput {
  const logs = { collect: true, directory: request.logsDirectory };
  if (request.jobId)
    return { job: { jobId: request.jobId }, polling: request.polling, logs, receiverUrl: request.receiverUrl };
  const dataset = request.dataset ?? '';
  return {
    dataset: /^https?:\/\//.test(dataset) ? { ndjsonUrl: dataset } : { ndjsonPath: dataset },
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
    sharding: request.sharding,
  };
}

/** Validates the request with the client's input schema before anything connects: bad input is a usage error. */
export function checkRunRequest(request: RunRequest): BatchPredictionInput {
  const { BatchInputError, parseBatchPredictionInput } = require('../run-client') as typeof import('../run-client');
  try {
    return parseBatchPredictionInput(toBatchPredictionInput(request));
  } catch (err) {
    if (err instanceof BatchInputError) throw new UsageError(err.message);
    throw err;
  }
}

/** Starts a batchPrediction run through src/run-client on the configured task queue. */
export async function startRun(session: TemporalSession, request: RunRequest): Promise<WorkflowHandle> {
  const { startBatchPrediction } = require('../run-client') as typeof import('../run-client');
  return startBatchPrediction(session.client, checkRunRequest(request), {
    taskQueue: session.config.taskQueue,
    workflowId: request.workflowId,
  });
}

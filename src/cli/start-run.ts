import type { WorkflowHandle } from '@temporalio/client';
import type { TemporalSession } from './temporal-client';

/** What `run` and `demo` ask for; mapped onto the input schema of src/client. */
export interface RunRequest {
  workflowId?: string;
  name?: string;
  /** Local NDJSON file (uploaded by the worker) or an http(s) URL of one. */
  datasetFile: string;
  deploymentId?: string;
  artifactId?: string;
  webhookIds: string[];
  startAt?: string;
  stopAt?: string;
}

/** Starts a batchPrediction run through src/client (which validates the input) on the configured task queue. */
export async function startRun(session: TemporalSession, request: RunRequest): Promise<WorkflowHandle> {
  const { startBatchPrediction } = require('../client') as typeof import('../client');
  return startBatchPrediction(
    session.client,
    {
      name: request.name,
      dataset: request.datasetFile,
      deploymentId: request.deploymentId,
      artifactId: request.artifactId,
      webhookIds: request.webhookIds,
      startAt: request.startAt,
      stopAt: request.stopAt,
    },
    { taskQueue: session.config.taskQueue, workflowId: request.workflowId },
  );
}

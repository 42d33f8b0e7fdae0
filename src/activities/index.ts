import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DatatureClient } from '../datature-api';
import { requestCancellation } from '../run-client/cancellation';
import type { BatchActivities } from '../workflows/activity-contract';
import { FailureType } from '../workflows/failures';
import { collectLogs } from './collect-logs';
import { deleteDatasetsNamed, getDataset, uploadDataset, validateSource } from './datasets';
import { collectFailedItems } from './failed-items';
import { cancelJob, createJob, describeJob, findJobByName, getJob } from './jobs';
import { countReceiverPredictions } from './receiver-check';

export type { AdoptedJob, BatchActivities, DatasetSnapshot, SourceSummary } from '../workflows/activity-contract';

export interface ActivitiesConfig {
  secretKey: string;
  projectId: string;
  baseUrl: string;
  /** Default directory of the job log files. */
  logsDir: string;
  /** Lets a `cancel` signal become a real cancellation request (the worker passes a client on its connection). */
  temporalClient?: Client;
}

/**
 * The activities over one Nexus client. Temporal retries activities (with backoff, for the outage budget);
 * the client adds one quick retry of a call that is safe to repeat (an idempotent one, or one the server
 * did not process), because an activity makes several calls (an upload lists, deletes, creates, PUTs) and
 * transient errors compound over them: at 30 % errors per call a five-call attempt succeeds 17 % of the
 * time without it and 62 % with it.
 */
export function createActivities(config: ActivitiesConfig): BatchActivities {
  const datatureApi = new DatatureClient({
    secretKey: config.secretKey,
    projectId: config.projectId,
    baseUrl: config.baseUrl,
    maxRetries: 1,
    // Two tries fit in the short activities' 30 s start-to-close, so a hung call fails here with a clear error first.
    timeoutMs: 12_000,
  });
  return {
    validateSource,
    uploadDataset: (request) => uploadDataset(datatureApi, request),
    getDataset: (datasetId) => getDataset(datatureApi, datasetId),
    deleteDatasetsNamed: (name) => deleteDatasetsNamed(datatureApi, name),
    createJob: (request) => createJob(datatureApi, request),
    findJobByName: (name) => findJobByName(datatureApi, name),
    describeJob: (jobId) => describeJob(datatureApi, jobId),
    getJob: (jobId) => getJob(datatureApi, jobId),
    cancelJob: (jobId) => cancelJob(datatureApi, jobId),
    collectLogs: (request) => collectLogs(datatureApi, config.logsDir, request),
    collectFailedItems: (request) => collectFailedItems(datatureApi, config.logsDir, request),
    countReceiverPredictions,
    async requestWorkflowCancellation({ workflowId, reason }) {
      if (!config.temporalClient) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client to cancel with',
          FailureType.NoTemporalClient,
        );
      }
      // The signal's reason goes on the request too: the history and the Web UI show it, the CLI reads it back.
      await requestCancellation(config.temporalClient, workflowId, reason);
    },
  };
}

import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NexusClient } from '../nexus';
import { FailureType } from '../workflows/failures';
import { collectLogs } from './collect-logs';
import { deleteDatasetsNamed, getDataset, uploadDataset, validateSource } from './datasets';
import { cancelJob, createJob, describeJob, findJobByName, getJob } from './jobs';
import { countReceiverPredictions } from './receiver-check';
import type { BatchActivities } from './types';

export type { AdoptedJob, BatchActivities, DatasetSnapshot, SourceSummary } from './types';

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
  const nexus = new NexusClient({
    secretKey: config.secretKey,
    projectId: config.projectId,
    baseUrl: config.baseUrl,
    maxRetries: 1,
    // Two tries fit in the short activities' 30 s start-to-close, so a hung call fails here with a clear error first.
    timeoutMs: 12_000,
  });
  return {
    validateSource,
    uploadDataset: (request) => uploadDataset(nexus, request),
    getDataset: (datasetId) => getDataset(nexus, datasetId),
    deleteDatasetsNamed: (name) => deleteDatasetsNamed(nexus, name),
    createJob: (request) => createJob(nexus, request),
    findJobByName: (name) => findJobByName(nexus, name),
    describeJob: (jobId) => describeJob(nexus, jobId),
    getJob: (jobId) => getJob(nexus, jobId),
    cancelJob: (jobId) => cancelJob(nexus, jobId),
    collectLogs: (request) => collectLogs(nexus, config.logsDir, request),
    countReceiverPredictions,
    async requestWorkflowCancellation({ workflowId }) {
      if (!config.temporalClient) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no Temporal client to cancel with',
          FailureType.NoTemporalClient,
        );
      }
      await config.temporalClient.workflow.getHandle(workflowId).cancel();
    },
  };
}

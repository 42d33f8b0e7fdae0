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

/** The activities over one Nexus client; client-side retries are off because Temporal retries activities. */
export function createActivities(config: ActivitiesConfig): BatchActivities {
  const nexus = new NexusClient({
    secretKey: config.secretKey,
    projectId: config.projectId,
    baseUrl: config.baseUrl,
    maxRetries: 0,
    // Below the short activities' 30 s start-to-close, so a hung call fails here with a clear error first.
    timeoutMs: 25_000,
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

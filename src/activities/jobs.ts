import { Context } from '@temporalio/activity';
import {
  ConflictError,
  type DatatureClient,
  type DeploymentTemplate,
  type Job,
  NotFoundError,
  pickJobItemCounters,
} from '../datature-api';
import type { AdoptedJob, CreateJobRequest } from '../workflows/activity-contract';
import { epochMsOf, type JobSnapshot } from '../workflows/definitions';
import { mapped } from './error-mapping';
import { watchWithReceiver } from './receiver-check';

/** Only what the workflow needs goes into history: overview, message, reason and the eight counters. */
function toJobSnapshot(job: Job): JobSnapshot {
  const { overview, message, reason, cancelledAt, items } = job.status;
  return {
    overview,
    message,
    reason: reason ?? null,
    cancelledAt: cancelledAt ?? null,
    items: pickJobItemCounters(items),
  };
}

async function jobNamed(datatureApi: DatatureClient, name: string, signal: AbortSignal): Promise<Job | undefined> {
  for await (const job of datatureApi.jobs.list({}, { signal })) if (job.name === name) return job;
  return undefined;
}

export function findJobByName(datatureApi: DatatureClient, name: string): Promise<{ jobId: string } | null> {
  const signal = Context.current().cancellationSignal;
  return mapped(async () => {
    const job = await jobNamed(datatureApi, name, signal);
    return job ? { jobId: job.id } : null;
  });
}

/**
 * Idempotent by name: a job an earlier attempt created (even if its answer was lost) is found, not duplicated.
 * With `watch`, the run's receiver is then told the job (again on a retry: the receiver keeps the last).
 */
export async function createJob(datatureApi: DatatureClient, request: CreateJobRequest): Promise<{ jobId: string }> {
  const created = await findOrCreateJob(datatureApi, request);
  if (request.watch) await watchWithReceiver(request.watch, created.jobId);
  return created;
}

function findOrCreateJob(
  datatureApi: DatatureClient,
  request: Omit<CreateJobRequest, 'watch'>,
): Promise<{ jobId: string }> {
  const signal = Context.current().cancellationSignal;
  return mapped(async () => {
    const existing = await jobNamed(datatureApi, request.name, signal);
    if (existing) return { jobId: existing.id };
    const { deploymentId, artifactId, deploymentTemplate, webhookIds } = request.job;
    // ISO-8601 in the input (epoch ms in inputs recorded before): the API client takes epoch ms.
    const startAtTime = request.job.startAtTime === undefined ? undefined : epochMsOf(request.job.startAtTime);
    const stopAtTime = request.job.stopAtTime === undefined ? undefined : epochMsOf(request.job.stopAtTime);
    const created = await datatureApi.jobs.create(
      {
        name: request.name,
        datasetId: request.datasetId,
        webhookIds,
        deploymentId,
        artifactId,
        deploymentTemplate: deploymentTemplate as DeploymentTemplate | undefined,
        // "Not before" is met once that time has passed (e.g. during a long upload): start now.
        startAtTime: startAtTime !== undefined && startAtTime > Date.now() ? startAtTime : undefined,
        stopAtTime,
      },
      { signal },
    );
    return { jobId: created.id };
  });
}

/** A dataset deleted since the job was made leaves its item count unknown (0): the job's end is its overview. */
export function describeJob(datatureApi: DatatureClient, jobId: string): Promise<AdoptedJob> {
  return mapped(async () => {
    const { spec, createDate } = await datatureApi.jobs.get(jobId);
    const datasetId = spec.datasetId ?? undefined;
    let itemCount = 0;
    if (datasetId) {
      try {
        itemCount = (await datatureApi.datasets.get(datasetId)).status.itemCount;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return {
      createdAt: createDate,
      datasetId,
      itemCount,
      startAtTime: spec.startAtTime ?? undefined,
      stopAtTime: spec.stopAtTime ?? undefined,
    };
  });
}

/** Aborted when the activity is cancelled (a cancelled run, or a worker shutting down past its grace). */
export function getJob(datatureApi: DatatureClient, jobId: string): Promise<JobSnapshot> {
  const signal = Context.current().cancellationSignal;
  return mapped(async () => toJobSnapshot(await datatureApi.jobs.get(jobId, { signal })));
}

/** A job that has already ended cannot be changed (409): then there is nothing to cancel, and its state is the answer. */
export function cancelJob(datatureApi: DatatureClient, jobId: string): Promise<JobSnapshot> {
  return mapped(async () => {
    try {
      return toJobSnapshot(await datatureApi.jobs.cancel(jobId));
    } catch (err) {
      if (err instanceof ConflictError) return toJobSnapshot(await datatureApi.jobs.get(jobId));
      throw err;
    }
  });
}

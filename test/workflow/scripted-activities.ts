// A FAKE of the Datature API, for the time-skipping tests only: a real 2 h or 3 day batch job cannot run
// here, so the job's counters advance as a function of the *workflow clock* (the time-skipping server's
// time, read from each activity's scheduled timestamp). Everything Temporal-side is real.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { BatchActivities } from '../../src/activities/types';
import type { JobItemCounters, JobSnapshot } from '../../src/workflows/definitions';

export interface ScriptedJob {
  id: string;
  name: string;
  itemCount: number;
  createdAt: number;
  startAt: number;
  durationMs: number;
  cancelledAt?: number;
}

export interface ScriptedApi {
  activities: BatchActivities;
  jobs: ScriptedJob[];
  calls: Record<string, number>;
}

function workflowClockNow(): number {
  return Context.current().info.currentAttemptScheduledTimestampMs;
}

function countersAt(job: ScriptedJob, now: number): JobItemCounters {
  const end = job.cancelledAt ?? Number.POSITIVE_INFINITY;
  const ran = Math.max(0, Math.min(now, end) - job.startAt);
  const done = Math.min(job.itemCount, Math.floor((job.itemCount * ran) / job.durationMs));
  return {
    gathered: job.itemCount,
    failedGather: 0,
    preprocessed: done,
    failedProcess: 0,
    predicted: done,
    failedPredict: 0,
    delivered: done,
    failedDeliver: 0,
  };
}

function snapshot(job: ScriptedJob, now: number): JobSnapshot {
  const items = countersAt(job, now);
  const finished = items.delivered === job.itemCount || job.cancelledAt !== undefined;
  const overview = finished ? 'Reached' : now < job.startAt ? 'Waiting' : 'Running';
  return { overview, message: overview, cancelledAt: job.cancelledAt ?? null, items };
}

export function scriptedApi(options: { itemCount: number; jobDurationMs: number; client: Client }): ScriptedApi {
  const jobs: ScriptedJob[] = [];
  const calls: Record<string, number> = {};
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const findJob = (id: string) => {
    const job = jobs.find((candidate) => candidate.id === id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  };
  const activities: BatchActivities = {
    async validateSource() {
      count('validateSource');
      return { itemCount: options.itemCount, sizeBytes: options.itemCount * 50, crc32c: 'AAAAAA==' };
    },
    async uploadDataset() {
      count('uploadDataset');
      return { datasetId: 'dataset_1' };
    },
    async getDataset() {
      count('getDataset');
      return { overview: 'Uploaded', message: 'Uploaded Dataset', itemCount: options.itemCount };
    },
    async deleteDatasetsNamed() {
      count('deleteDatasetsNamed');
      return { deleted: 1 };
    },
    async createJob({ name, job }) {
      count('createJob');
      const now = workflowClockNow();
      const created: ScriptedJob = {
        id: `job_${jobs.length + 1}`,
        name,
        itemCount: options.itemCount,
        createdAt: now,
        startAt: Math.max(now, job.startAtTime ?? now),
        durationMs: options.jobDurationMs,
      };
      jobs.push(created);
      return { jobId: created.id };
    },
    async findJobByName(name) {
      count('findJobByName');
      const job = jobs.find((candidate) => candidate.name === name);
      return job ? { jobId: job.id } : null;
    },
    async getJob(jobId) {
      count('getJob');
      return snapshot(findJob(jobId), workflowClockNow());
    },
    async cancelJob(jobId) {
      count('cancelJob');
      const job = findJob(jobId);
      job.cancelledAt ??= workflowClockNow();
      return snapshot(job, workflowClockNow());
    },
    async collectLogs({ fileName }) {
      count('collectLogs');
      return { filePath: `/scripted/${fileName}`, entries: 0, byStatus: {}, byLevel: {}, firstFailures: [] };
    },
    async countReceiverPredictions() {
      count('countReceiverPredictions');
      return { predictions: options.itemCount };
    },
    async requestWorkflowCancellation({ workflowId }) {
      count('requestWorkflowCancellation');
      await options.client.workflow.getHandle(workflowId).cancel();
    },
  };
  return { activities, jobs, calls };
}

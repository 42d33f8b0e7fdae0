// A FAKE of the Datature API, for the time-skipping tests only: a real 2 h or 3 day batch job cannot run
// here, so the job's counters advance as a function of the *workflow clock* (the time-skipping server's
// time, read from each activity's scheduled timestamp). Everything Temporal-side is real.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BatchActivities } from '../../src/workflows/activity-contract';
import {
  type BatchPredictionInput,
  type DatasetSourceInput,
  epochMsOf,
  type JobItemCounters,
  type JobSnapshot,
} from '../../src/workflows/definitions';

export interface ScriptedJob {
  id: string;
  name: string;
  itemCount: number;
  createdAt: number;
  startAt: number;
  durationMs: number;
  shape?: (ranMs: number, itemCount: number) => number;
  failEvery?: number;
  failsWith?: string;
  cancelledAt?: number;
  deploymentId?: string;
  /** Default dataset_1 (a job made outside the scripted API). */
  datasetId?: string;
}

export interface ScriptedApi {
  activities: BatchActivities;
  jobs: ScriptedJob[];
  calls: Record<string, number>;
  /** The names passed to `deleteDatasetsNamed`, in call order. */
  deletedDatasetNames: string[];
  /** Resolves once the activity named in `blockIn` has started its blocking attempt. */
  blocked: Promise<void>;
  /** The workflow-clock time of every `getJob` call. */
  lookTimes: number[];
  /** Every source `validateSource` was given (a shard's carries its itemRange). */
  sources: DatasetSourceInput[];
}

/** The activities a test can hold open (heartbeating) until the workflow cancels them. */
export type BlockableActivity = 'validateSource' | 'uploadDataset' | 'createJob' | 'collectLogs';

export interface ScriptedOptions {
  itemCount: number;
  jobDurationMs: number;
  client: Client;
  /** The first call of this activity heartbeats until it is cancelled (then fails as cancelled). */
  blockIn?: BlockableActivity;
  /** With `blockIn: 'createJob'`: the job is created server-side before the activity blocks (answer lost). */
  blockAfterCreatingJob?: boolean;
  /** The job ends on its own just before the cancel reaches it (the race between the last poll and the cancel). */
  jobEndsBeforeCancel?: boolean;
  /** A new dataset reports `Waiting` for this long on the workflow clock before `Uploaded`. Default 0. */
  datasetProcessingMs?: number;
  /** The upload never reaches the server: the dataset stays `Waiting` for good. */
  uploadLost?: boolean;
  /**
   * Items done after the job ran `ranMs` (default: linear over jobDurationMs). The job ends when this
   * reaches itemCount: give jobDurationMs as that moment for the scripted cancel and the reports.
   */
  shape?: (ranMs: number, itemCount: number) => number;
  /**
   * Every Nth item of the first job fails at predict (counted in FailedPredict and, like the emulator, in
   * FailedDeliver); a retry round's job (its dataset uploaded from the failed items) has them all succeed.
   */
  failEvery?: number;
  /** The job ends `Failed` with this reason instead of `Reached`. */
  jobFailsWith?: string;
  /** Jobs on these deployments end `Failed` with the reason given. */
  jobFailsOn?: Record<string, string>;
  /** `validateSource` fails the way the activity does on a bad file (non-retryable, typed from the catalogue). */
  validateSourceFails?: { message: string; type: string };
  /** `getJob` fails like the activity over an API in trouble, from..until ms after the job starts. */
  getJobFails?: { fromMs: number; untilMs: number; type: string; nonRetryable?: boolean };
}

/** The length of each item's line in the scripted source. */
export const ITEM_BYTES = 50;

/** Long enough for any cancellation to arrive; a blocked activity never outlives a test by more. */
const MAX_BLOCK_MS = 60_000;

/** Heartbeats until the activity is cancelled; `Context.sleep` then rejects with the cancellation. */
async function heartbeatUntilCancelled(): Promise<never> {
  const context = Context.current();
  const deadline = Date.now() + MAX_BLOCK_MS;
  while (Date.now() < deadline) {
    context.heartbeat();
    await context.sleep(50);
  }
  throw new Error(`blocked ${context.info.activityType} was never cancelled`);
}

function workflowClockNow(): number {
  return Context.current().info.currentAttemptScheduledTimestampMs;
}

const linearShape = (durationMs: number) => (ranMs: number, itemCount: number) =>
  Math.floor((itemCount * ranMs) / durationMs);

function countersAt(job: ScriptedJob, now: number): JobItemCounters {
  const end = job.cancelledAt ?? Number.POSITIVE_INFINITY;
  const ran = Math.max(0, Math.min(now, end) - job.startAt);
  const done = Math.min(job.itemCount, (job.shape ?? linearShape(job.durationMs))(ran, job.itemCount));
  const failed = job.failEvery ? Math.floor(done / job.failEvery) : 0;
  return {
    gathered: job.itemCount,
    failedGather: 0,
    preprocessed: done,
    failedProcess: 0,
    predicted: done - failed,
    failedPredict: failed,
    delivered: done - failed,
    failedDeliver: failed,
  };
}

function snapshot(job: ScriptedJob, now: number): JobSnapshot {
  const items = countersAt(job, now);
  const finished = items.delivered + items.failedDeliver === job.itemCount || job.cancelledAt !== undefined;
  const ended = job.failsWith && job.cancelledAt === undefined ? 'Failed' : 'Reached';
  const overview = finished ? ended : now < job.startAt ? 'Waiting' : 'Running';
  const reason = finished && ended === 'Failed' ? job.failsWith : null;
  return { overview, message: overview, reason, cancelledAt: job.cancelledAt ?? null, items };
}

function isStopped(job: JobSnapshot): boolean {
  return job.overview === 'Reached' || job.overview === 'Failed';
}

export function scriptedApi(options: ScriptedOptions): ScriptedApi {
  const jobs: ScriptedJob[] = [];
  const calls: Record<string, number> = {};
  const deletedDatasetNames: string[] = [];
  const lookTimes: number[] = [];
  const sources: DatasetSourceInput[] = [];
  /** Datasets by name (one per run or retry round): id and item count, so shards and rounds each get theirs. */
  const datasets = new Map<string, { id: string; itemCount: number }>();
  const datasetItems = (datasetId: string) =>
    [...datasets.values()].find((dataset) => dataset.id === datasetId)?.itemCount ?? options.itemCount;
  let datasetUploadedAt: number | undefined;
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  let markBlocked: () => void = () => {};
  const blocked = new Promise<void>((resolve) => {
    markBlocked = resolve;
  });
  /** True for the one call that should block (the first one of the activity named in `blockIn`). */
  const blocks = (name: BlockableActivity) => {
    if (options.blockIn !== name || calls[name] !== 1) return false;
    markBlocked();
    return true;
  };
  const findJob = (id: string) => {
    const job = jobs.find((candidate) => candidate.id === id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  };
  const activities: BatchActivities = {
    async validateSource(source, validateOptions) {
      count('validateSource');
      sources.push(source);
      if (blocks('validateSource')) await heartbeatUntilCancelled();
      if (options.validateSourceFails) {
        throw ApplicationFailure.create({ ...options.validateSourceFails, nonRetryable: true });
      }
      const range = 'itemRange' in source ? source.itemRange : undefined;
      const itemCount = range ? range.end - range.start : options.itemCount;
      // Every item's line is ITEM_BYTES long: shard k starts at byte k × every × ITEM_BYTES.
      const every = validateOptions?.shardStartsEvery;
      const shardStarts = every
        ? Array.from({ length: Math.ceil(itemCount / every) - 1 }, (_, k) => (k + 1) * every * ITEM_BYTES)
        : undefined;
      return { itemCount, sizeBytes: itemCount * ITEM_BYTES, crc32c: 'AAAAAA==', ...(shardStarts && { shardStarts }) };
    },
    async uploadDataset({ name, expected }) {
      count('uploadDataset');
      if (blocks('uploadDataset')) await heartbeatUntilCancelled();
      datasetUploadedAt = workflowClockNow();
      if (!datasets.has(name))
        datasets.set(name, { id: `dataset_${datasets.size + 1}`, itemCount: expected.itemCount });
      return { datasetId: datasets.get(name)!.id };
    },
    async getDataset(datasetId) {
      count('getDataset');
      if (options.uploadLost) return { overview: 'Waiting', message: 'Waiting', itemCount: 0 };
      const processing = workflowClockNow() < (datasetUploadedAt ?? 0) + (options.datasetProcessingMs ?? 0);
      if (processing) return { overview: 'Processing', message: 'Processing Dataset', itemCount: 0 };
      return { overview: 'Uploaded', message: 'Uploaded Dataset', itemCount: datasetItems(datasetId) };
    },
    async deleteDatasetsNamed(name) {
      count('deleteDatasetsNamed');
      deletedDatasetNames.push(name);
      return { deleted: 1 };
    },
    async createJob({ name, job, datasetId }) {
      count('createJob');
      const blocking = blocks('createJob');
      if (blocking && !options.blockAfterCreatingJob) await heartbeatUntilCancelled();
      const now = workflowClockNow();
      const created: ScriptedJob = {
        id: `job_${jobs.length + 1}`,
        name,
        datasetId,
        deploymentId: job.deploymentId,
        itemCount: datasetItems(datasetId),
        createdAt: now,
        startAt: Math.max(now, job.startAtTime === undefined ? now : epochMsOf(job.startAtTime)),
        durationMs: options.jobDurationMs,
        shape: options.shape,
        // Only round 1's job fails items (a retry round's items then succeed).
        failEvery: jobs.length === 0 ? options.failEvery : undefined,
        failsWith: (job.deploymentId && options.jobFailsOn?.[job.deploymentId]) || options.jobFailsWith,
      };
      jobs.push(created);
      if (blocking) await heartbeatUntilCancelled();
      return { jobId: created.id };
    },
    async findJobByName(name) {
      count('findJobByName');
      const job = jobs.find((candidate) => candidate.name === name);
      return job ? { jobId: job.id } : null;
    },
    async describeJob(jobId) {
      count('describeJob');
      const job = findJob(jobId);
      return {
        createdAt: job.createdAt,
        datasetId: job.datasetId ?? 'dataset_1',
        itemCount: job.itemCount,
        startAtTime: job.startAt,
      };
    },
    async getJob(jobId) {
      count('getJob');
      lookTimes.push(workflowClockNow());
      const job = findJob(jobId);
      const failing = options.getJobFails;
      const sinceStart = workflowClockNow() - job.startAt;
      if (failing && sinceStart >= failing.fromMs && sinceStart < failing.untilMs) {
        count('getJobFailed');
        throw ApplicationFailure.create({
          message: `scripted ${failing.type} (HTTP 503: the API is down)`,
          type: failing.type,
          nonRetryable: failing.nonRetryable ?? false,
        });
      }
      return snapshot(job, workflowClockNow());
    },
    async cancelJob(jobId) {
      count('cancelJob');
      const job = findJob(jobId);
      if (options.jobEndsBeforeCancel) job.durationMs = Math.max(1, workflowClockNow() - job.startAt);
      // Like the activity over the API: a job that already ended is left alone and its state answered.
      if (isStopped(snapshot(job, workflowClockNow()))) return snapshot(job, workflowClockNow());
      job.cancelledAt = workflowClockNow();
      return snapshot(job, workflowClockNow());
    },
    async collectLogs({ fileName }) {
      count('collectLogs');
      if (blocks('collectLogs')) await heartbeatUntilCancelled();
      return { filePath: `/scripted/${fileName}`, entries: 0, byStatus: {}, byLevel: {}, firstFailures: [] };
    },
    /** The scripted failures are all FailedPredict: retried when the round asks for that status. */
    async collectFailedItems({ jobId, failed, retry }) {
      count('collectFailedItems');
      const failedItems = countersAt(findJob(jobId), workflowClockNow()).failedPredict;
      const retried = retry?.statuses.includes('FailedPredict') ? failedItems : 0;
      const added = failedItems - retried;
      return {
        byStatus: (failedItems ? { FailedPredict: failedItems } : {}) as Record<string, number>,
        failed: {
          filePath: `/scripted/${failed.fileName}`,
          reasonsFilePath: `/scripted/${failed.reasonsFileName}`,
          bytes: failed.bytes + added * 50,
          reasonsBytes: failed.reasonsBytes + added * 100,
          added,
        },
        ...(retried && retry
          ? {
              retry: {
                filePath: `/scripted/${retry.fileName}`,
                itemCount: retried,
                sizeBytes: retried * 50,
                crc32c: 'AAAAAA==',
              },
            }
          : {}),
      };
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
  return { activities, jobs, calls, deletedDatasetNames, blocked, lookTimes, sources };
}

/** A one-item run on the scripted API; the item URL is never fetched. */
export function scriptedInput(overrides: Partial<BatchPredictionInput> = {}): BatchPredictionInput {
  return {
    dataset: { items: [{ kind: 'Image', url: 'http://127.0.0.1:1/a.jpg' }] },
    job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'] },
    logs: { collect: true },
    ...overrides,
  };
}

// Everything a caller needs to start, signal, query and search `batchPrediction` runs without importing the
// workflow code itself: safe to import from clients, the CLI and schedules.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { FailedByStage, FailedItemStatus, JobItemCounters } from '../datature-api/status-rules';

export const WORKFLOW_TYPE = 'batchPrediction';
export const DEFAULT_TASK_QUEUE = 'datature-batch';
export const DEFAULT_NAMESPACE = 'default';

export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
/** "Look at the job now": sent by `datature-batch poke` and by a receiver that holds every item's prediction. */
export const checkNowSignal = defineSignal<[CheckNowRequest?]>('checkNow');
export const progressQuery = defineQuery<BatchProgress>('progress');
/** A shard's run tells its parent its job's counters (throttled), so the parent's `progress` sums live shards. */
export const shardProgressSignal = defineSignal<[ShardProgressReport]>('shardProgress');
/** A parent that drains before continuing as new tells its running shards to stop reporting (its history stays bounded). */
export const stopShardReportsSignal = defineSignal('stopShardReports');

/**
 * Memo of a shard's run: its item range's bytes in the source, `{ byteStart, byteEnd? }`. A memo rather than the
 * input because workers from before byte ranges check a run's input strictly and would refuse the run; they
 * ignore a memo, and their shard reads the whole source as it used to.
 */
export const SHARD_BYTES_MEMO = 'shardBytes';

export const BatchPhaseKey = defineSearchAttributeKey('BatchPhase', SearchAttributeType.KEYWORD);
export const BatchDatasetIdKey = defineSearchAttributeKey('BatchDatasetId', SearchAttributeType.KEYWORD);
export const BatchJobIdKey = defineSearchAttributeKey('BatchJobId', SearchAttributeType.KEYWORD);
/** Set by Temporal on every run a schedule starts. */
export const TemporalScheduledByIdKey = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);
/** Register these when the namespace is created (dev server `--search-attribute`, operator service in production). */
export const BATCH_SEARCH_ATTRIBUTES = [BatchPhaseKey, BatchDatasetIdKey, BatchJobIdKey];

export interface CancelRequest {
  reason?: string;
}

export interface CheckNowRequest {
  /** Who asked (shown in the history and the progress), e.g. `receiver` or `cli`. */
  from?: string;
}

/** Items `start` (inclusive) to `end` (exclusive) of a source, counted from 0: what one shard reads. */
export interface ItemRange {
  start: number;
  end: number;
  /**
   * Where those items' lines lie in the source's bytes (`byteEnd` exclusive; none for the last shard: to the
   * end), as the sharded run's validation found them (a shard's run takes them from its SHARD_BYTES_MEMO): the
   * shard then reads its own bytes (a file's range, a URL's `Range` request). Without them it reads the whole
   * source, keeping its lines.
   */
  byteStart?: number;
  byteEnd?: number;
}

export type DatasetSourceInput =
  | { ndjsonPath: string; itemRange?: ItemRange }
  | { ndjsonUrl: string; itemRange?: ItemRange }
  | { items: { kind: 'Image'; url: string }[]; itemRange?: ItemRange }
  | { datasetId: string };

export interface JobInput {
  name?: string;
  deploymentId?: string;
  /** With `sharding`: the deployments the shards are spread over, round-robin (instead of `deploymentId`). */
  deploymentIds?: string[];
  artifactId?: string;
  /** The ephemeral deployment's template when `artifactId` is used (API `Deployment` shape). */
  deploymentTemplate?: Record<string, unknown>;
  webhookIds: string[];
  /** ISO-8601 (epoch milliseconds are accepted on input and normalised to ISO where the input enters). */
  startAtTime?: IsoTime;
  /** ISO-8601 (epoch milliseconds accepted on input, as for startAtTime). */
  stopAtTime?: IsoTime;
}

/** A time a person reads (input, progress, result): ISO-8601 with a zone, e.g. `2026-12-01T02:00:00.000Z`. */
export type IsoTime = string;

/**
 * The one rule for times: what a person reads is ISO-8601; epoch ms are still accepted where they come in
 * (inputs and state recorded before the change). No imports: usable in the workflow sandbox.
 */
export function isoTime(time: IsoTime | number): IsoTime {
  return new Date(typeof time === 'number' ? time : Date.parse(time)).toISOString();
}

/** Epoch ms of an ISO-8601 time or of epoch ms (older inputs and carried state); NaN when unreadable. */
export function epochMsOf(time: IsoTime | number): number {
  return typeof time === 'number' ? time : Date.parse(time);
}

/** The phase a run starts in: the `BatchPhase` the client helpers and schedules set when they start it. */
export function initialPhase(input: Pick<BatchPredictionInput, 'job'>): BatchPhase {
  return isAdoptedJob(input.job) ? 'creating-job' : 'validating';
}

/**
 * A job created elsewhere (by the SDK, or by a run that was terminated): the run only waits for it,
 * collects its logs and can cancel it. Nothing is uploaded or created, and its dataset is never deleted.
 */
export interface AdoptJobInput {
  jobId: string;
}

export function isAdoptedJob(job: JobInput | AdoptJobInput): job is AdoptJobInput {
  return 'jobId' in job;
}

export interface PollingInput {
  /** The shortest sleep between two looks at the job (default 5 s). */
  minIntervalMs?: number;
  /** The longest (default 60 min; without an estimate saying the job runs long, 10 min). */
  maxIntervalMs?: number;
  /**
   * How widely the first look at the job is spread after minIntervalMs (default a minute for a run a schedule
   * started, so the runs of one tick do not poll in step; a fifth of minIntervalMs otherwise).
   */
  firstLookSpreadMs?: number;
  /** Continue-as-new once the run's history holds this many events (besides the server's own suggestion). */
  maxHistoryEvents?: number;
}

/** The levels the emulator knows; the hosted API documents `Info` and `Error`. */
export const JOB_LOG_LEVELS = ['Debug', 'Info', 'Warning', 'Error'] as const;
export type JobLogLevel = (typeof JOB_LOG_LEVELS)[number];

export interface LogsInput {
  collect: boolean;
  minLevel?: JobLogLevel;
  /** A folder inside the worker's logs directory (`DATATURE_LOGS_DIR`) for the NDJSON file; default: that directory. */
  directory?: string;
}

export interface LimitsInput {
  /**
   * How long an API outage (5xx, 429, unreachable) is ridden out before the job exists (default 1 h). Once
   * the job exists the run waits out any outage for as long as it lasts.
   */
  apiOutageMs?: number;
  /** How long a dataset may take to become Uploaded after its upload (default 24 h). */
  datasetReadyMs?: number;
}

export interface CleanupInput {
  /** Delete the dataset this run uploaded once the job finished successfully. Default false. */
  deleteDatasetOnSuccess?: boolean;
  /** Delete the dataset this run uploaded when cancelled before a job was created. Default true. */
  deleteDatasetOnCancel?: boolean;
  /** Delete the dataset this run uploaded when the run fails before a job was created. Default true. */
  deleteDatasetOnFailure?: boolean;
}

/**
 * Failed items get a second chance (docs/pipeline.md, "Failed items"): the items of a job that ended with
 * these statuses are uploaded as a new dataset and run again as a follow-up job (same deployment and
 * webhooks), up to `maxRounds` times. Delivered items are never sent again. Default: one round for
 * `FailedGather` and `FailedDeliver`, a minute after the job ended; `maxRounds: 0` only writes the failed items' file.
 */
export interface RetryFailedItemsInput {
  maxRounds?: number;
  statuses?: FailedItemStatus[];
  /** Wait this long before a follow-up round (the passing cause has time to pass). */
  delayMs?: number;
}

/** One job of a run: the first (round 1) or a follow-up of the items that failed in the round before. */
export interface RoundSummary {
  round: number;
  jobId: string;
  datasetId?: string;
  itemsIn: number;
  delivered: number;
  failed: FailedByStage;
  /** Of its failed items, how many went on to the next round. */
  retried: number;
}

/** Where each item ended, over all rounds. */
export interface FinalItems {
  delivered: number;
  /** Items that still failed after their rounds, listed in `failedFile` (same item lines as a dataset). */
  failed: number;
  /** `<run>.failed.ndjson`, next to the job logs: `datature-batch run <that file>` re-runs them. */
  failedFile?: string;
  /** Its sidecar: per item its last status, reason, and `failed after N rounds`. */
  reasonsFile?: string;
}

/**
 * Split a source with more items than one shard into child runs (docs/pipeline.md, "Sharding"): each a
 * `batchPrediction` of an item range with its own dataset and job.
 */
export interface ShardingInput {
  maxItemsPerShard: number;
  /** At most this many shards run at once. */
  maxParallelShards: number;
  /** Tries of one shard before it counts as failed (default 3); the other shards go on meanwhile. */
  maxShardAttempts?: number;
  /** The parent drains and continues as new once its history holds this many events (default 1,800 − 12 × maxParallelShards, at least 200). */
  maxHistoryEvents?: number;
}

/** JSON-only input: no secrets (the worker holds the API key). Validated by `BatchPredictionInputSchema`. */
export interface BatchPredictionInput {
  /** Required unless `job` names an existing job to adopt. */
  dataset?: DatasetSourceInput;
  job: JobInput | AdoptJobInput;
  polling?: PollingInput;
  logs?: LogsInput;
  cleanup?: CleanupInput;
  limits?: LimitsInput;
  /** An empty source ends the run with outcome `nothing-to-predict` instead of failing. */
  allowEmptySource?: boolean;
  /**
   * A results receiver: told the job id, item count and workflow id when the job is created (it sends
   * `checkNow` once it holds a prediction per item), and asked `GET <receiverUrl>/counts?jobId=` after the job.
   */
  receiverUrl?: string;
  retryFailedItems?: RetryFailedItemsInput;
  sharding?: ShardingInput;
  /** Set by a sharded run on each of its child runs: the child reports its counters to its parent. */
  shardIndex?: number;
}

export type BatchPhase =
  | 'validating'
  | 'uploading'
  | 'waiting-for-dataset'
  | 'creating-job'
  | 'waiting-for-job'
  | 'collecting-logs'
  | 'collecting-failed-items'
  | 'checking-receiver'
  /** A sharded run, while its child runs go. */
  | 'running-shards'
  | 'cancelling'
  | 'cancelled'
  | 'completed';

/** The eight counters and the status rules live in one import-free module (usable in the workflow sandbox). */
export type { JobItemCounters } from '../datature-api/status-rules';

export interface JobSnapshot {
  overview: string;
  message: string;
  reason?: string | null;
  cancelledAt?: number | null;
  items: JobItemCounters;
}

export interface LogsSummary {
  filePath: string;
  entries: number;
  byStatus: Record<string, number>;
  byLevel: Record<string, number>;
  /** The first 10 entries whose level or status says the item failed. */
  firstFailures: { item: string; status: string; level: string; reason?: string | null }[];
  /**
   * Milliseconds (createTime) holding more than one page of entries that the server could not page inside
   * (the hosted API documents no way to): some of their entries are missing from the file. Absent when none.
   */
  partialMilliseconds?: number[];
}

export interface ReceiverCheck {
  predictions: number;
  delivered: number;
  matchesDelivered: boolean;
}

/** When each phase started and ended (ISO-8601, from the workflow clock). */
export type PhaseTimings = Partial<Record<BatchPhase, { startedAt: IsoTime; endedAt?: IsoTime }>>;

/** What a cancelled (or failed) run cleaned up: in the progress, the Web UI details and the cancellation's details. */
export interface CleanupSummary {
  /** Why the run was cancelled (the signal's reason; Temporal keeps no message for a cancellation). */
  reason?: string;
  jobId?: string;
  jobOverview?: string;
  /** Epoch ms; null when the job had already ended by itself. */
  jobCancelledAt?: number | null;
  logsFile?: string;
  logEntries?: number;
  datasetId?: string;
  /** What became of the dataset this run uploaded (a dataset given by id is always kept). */
  dataset: 'deleted' | 'kept';
}

/** One sentence of what a cancel cleaned up (the Web UI's details; the CLI says the same). */
export function describeCleanup(cleanup: CleanupSummary): string {
  const parts: string[] = [];
  if (cleanup.jobId) {
    const at = cleanup.jobCancelledAt
      ? ` at ${new Date(cleanup.jobCancelledAt).toISOString()}`
      : ' (it had already ended)';
    parts.push(`job ${cleanup.jobId} cancelled${at}`);
  }
  if (cleanup.logsFile) parts.push(`${cleanup.logEntries} log entries in ${cleanup.logsFile}`);
  if (cleanup.datasetId) parts.push(`dataset ${cleanup.datasetId} ${cleanup.dataset}`);
  return parts.length ? parts.join('; ') : 'nothing had been created';
}

/** The last API error the run is waiting out (it keeps polling while the job is alive). */
export interface ApiErrorSeen {
  message: string;
  type?: string;
  /** Epoch ms of the first of the errors in a row, and how many there were. */
  since: number;
  count: number;
}

export interface BatchProgress {
  phase: BatchPhase;
  datasetId?: string;
  jobId?: string;
  itemCount?: number;
  job?: JobSnapshot;
  polls: number;
  /** The next look at the job (or at the dataset), ISO-8601; a `checkNow` signal brings it forward. */
  nextPollAt?: IsoTime;
  lastError?: ApiErrorSeen;
  cancelReason?: string;
  /** Once the run was cancelled (or failed and deleted its dataset): what was cleaned up. */
  cleanup?: CleanupSummary;
  timings: PhaseTimings;
  runsSoFar: number;
  /** Once a job ended with failed items: the round in flight (1 = the first job) and the rounds that ended. */
  round?: number;
  rounds?: RoundSummary[];
  /** A sharded run: its shards' states (its `job.items` sums their counters). */
  shards?: ShardCounts;
}

export interface ShardCounts {
  total: number;
  waiting: number;
  running: number;
  done: number;
  /** Failed for good (after their retries). */
  failed: number;
  /** Tries after a failure so far. */
  retries: number;
}

export interface ShardProgressReport {
  index: number;
  items: JobItemCounters;
}

/** A shard that failed for good: its root cause, as a run of its own would have ended. */
export interface ShardFailure {
  index: number;
  workflowId: string;
  type: string;
  message: string;
}

export interface ShardSummary {
  index: number;
  itemRange: ItemRange;
  deploymentId?: string;
  /** The child run of its last try. */
  workflowId: string;
  status: 'done' | 'failed' | 'done-earlier';
  attempts: number;
  delivered: number;
  /** Items that failed in the job (any stage). */
  failedItems: number;
}

export interface ShardsResult extends ShardCounts {
  maxItemsPerShard: number;
  /** Every shard, in order; only the first 1,000 for a larger run (the counts cover them all). */
  summaries: ShardSummary[];
  failures: ShardFailure[];
}

export interface BatchPredictionResult {
  outcome: 'completed' | 'nothing-to-predict';
  datasetId?: string;
  jobId?: string;
  itemCount: number;
  job?: JobSnapshot;
  logs?: LogsSummary;
  receiver?: ReceiverCheck;
  timings: PhaseTimings;
  polls: number;
  /** How many runs (continue-as-new) the execution took. */
  runs: number;
  /** When a job ended with failed items: each round, and where each item ended (jobId/job above are round 1's). */
  rounds?: RoundSummary[];
  items?: FinalItems;
  /** A sharded run: its shards (the `job.items` above are their sums). */
  shards?: ShardsResult;
}

// Everything a caller needs to start, signal, query and search `batchPrediction` runs without importing the
// workflow code itself: safe to import from clients, the CLI and schedules.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const WORKFLOW_TYPE = 'batchPrediction';
export const DEFAULT_TASK_QUEUE = 'datature-batch';
export const DEFAULT_NAMESPACE = 'default';

export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
export const progressQuery = defineQuery<BatchProgress>('progress');

export const BatchPhaseKey = defineSearchAttributeKey('BatchPhase', SearchAttributeType.KEYWORD);
export const BatchDatasetIdKey = defineSearchAttributeKey('BatchDatasetId', SearchAttributeType.KEYWORD);
export const BatchJobIdKey = defineSearchAttributeKey('BatchJobId', SearchAttributeType.KEYWORD);
/** Register these when the namespace is created (dev server `--search-attribute`, operator service in production). */
export const BATCH_SEARCH_ATTRIBUTES = [BatchPhaseKey, BatchDatasetIdKey, BatchJobIdKey];

export interface CancelRequest {
  reason?: string;
}

export type DatasetSourceInput =
  | { ndjsonPath: string }
  | { ndjsonUrl: string }
  | { items: { kind: 'Image'; url: string }[] }
  | { datasetId: string };

export interface JobInput {
  name?: string;
  deploymentId?: string;
  artifactId?: string;
  /** The ephemeral deployment's template when `artifactId` is used (API `Deployment` shape). */
  deploymentTemplate?: Record<string, unknown>;
  webhookIds: string[];
  /** Epoch milliseconds. */
  startAtTime?: number;
  /** Epoch milliseconds. */
  stopAtTime?: number;
}

export interface PollingInput {
  minIntervalMs?: number;
  maxIntervalMs?: number;
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

export interface CleanupInput {
  /** Delete the dataset this run uploaded once the job finished successfully. Default false. */
  deleteDatasetOnSuccess?: boolean;
  /** Delete the dataset this run uploaded when cancelled before a job was created. Default true. */
  deleteDatasetOnCancel?: boolean;
  /** Delete the dataset this run uploaded when the run fails before a job was created. Default true. */
  deleteDatasetOnFailure?: boolean;
}

/** JSON-only input: no secrets (the worker holds the API key). Validated by `BatchPredictionInputSchema`. */
export interface BatchPredictionInput {
  dataset: DatasetSourceInput;
  job: JobInput;
  polling?: PollingInput;
  logs?: LogsInput;
  cleanup?: CleanupInput;
  /** An empty source ends the run with outcome `nothing-to-predict` instead of failing. */
  allowEmptySource?: boolean;
  /** A results receiver asked `GET <receiverUrl>/counts?jobId=` after the job. */
  receiverUrl?: string;
}

export type BatchPhase =
  | 'validating'
  | 'uploading'
  | 'waiting-for-dataset'
  | 'creating-job'
  | 'waiting-for-job'
  | 'collecting-logs'
  | 'checking-receiver'
  | 'cancelling'
  | 'cancelled'
  | 'completed';

export interface JobItemCounters {
  gathered: number;
  failedGather: number;
  preprocessed: number;
  failedProcess: number;
  predicted: number;
  failedPredict: number;
  delivered: number;
  failedDeliver: number;
}

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

/** Epoch ms per phase, from the workflow clock. */
export type PhaseTimings = Partial<Record<BatchPhase, { startedAt: number; endedAt?: number }>>;

export interface BatchProgress {
  phase: BatchPhase;
  datasetId?: string;
  jobId?: string;
  itemCount?: number;
  job?: JobSnapshot;
  polls: number;
  nextPollAt?: number;
  cancelReason?: string;
  timings: PhaseTimings;
  runsSoFar: number;
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
}

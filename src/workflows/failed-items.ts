// Retry rounds of failed items: the input's defaults and the contract of the activity that streams a job's
// failed items out of its logs. No I/O and no runtime imports beyond the import-free status rules: the
// workflow sandbox loads it.
import { DEFAULT_RETRY_STATUSES, type FailedItemStatus } from '../datature-api/status-rules';
import type { JobSnapshot, LogsSummary, RetryFailedItemsInput, RoundSummary } from './definitions';

export const DEFAULT_RETRY_ROUNDS = 1;
export const DEFAULT_RETRY_DELAY_MS = 60_000;
export const MAX_RETRY_ROUNDS = 10;

export interface RetryPlan {
  maxRounds: number;
  statuses: FailedItemStatus[];
  delayMs: number;
}

export function retryPlanOf(input: RetryFailedItemsInput | undefined): RetryPlan {
  return {
    maxRounds: input?.maxRounds ?? DEFAULT_RETRY_ROUNDS,
    statuses: input?.statuses ?? [...DEFAULT_RETRY_STATUSES],
    delayMs: input?.delayMs ?? DEFAULT_RETRY_DELAY_MS,
  };
}

/** `failed after N rounds`: the final outcome of an item, in the reasons sidecar and the CLI. */
export function failedAfter(rounds: number): string {
  return `failed after ${rounds} round${rounds === 1 ? '' : 's'}`;
}

export interface CollectFailedItemsRequest {
  jobId: string;
  /** The round this job was (1 = the run's first job): each failed item has been tried this many times. */
  round: number;
  /** A folder inside the worker's logs directory (the input's `logs.directory`). */
  directory?: string;
  /**
   * The run's `<run>.failed.ndjson` and its reasons sidecar, and their lengths once the rounds before had
   * written to them: every attempt cuts them back to these lengths first, so a retried activity adds nothing twice.
   */
  failed: { fileName: string; reasonsFileName: string; bytes: number; reasonsBytes: number };
  /** Failed items with these statuses go to `fileName` (the next round's dataset) instead of the failed file. */
  retry?: { statuses: string[]; fileName: string };
}

export interface FailedItemsCollected {
  /** Failed entries of the job's logs, by status. */
  byStatus: Record<string, number>;
  failed: { filePath: string; reasonsFilePath: string; bytes: number; reasonsBytes: number; added: number };
  /** The next round's dataset file (absent when no item is retried), described as validateSource does. */
  retry?: { filePath: string; itemCount: number; sizeBytes: number; crc32c: string };
}

/** The rounds of a run, carried across continue-as-new. Absent until a job ends with failed items. */
export interface RetryState {
  /** The round in flight (1 = the run's first job). */
  round: number;
  /** The rounds that ended. */
  rounds: RoundSummary[];
  /** Round 1's job and logs, which the result reports as the run's. */
  firstJob: JobSnapshot;
  firstLogs?: LogsSummary;
  /** Whether the run uploaded round 1's dataset (a dataset given by id is never deleted). */
  firstOwned: boolean;
  /** The next round's dataset file, from the failed items of the round before. */
  next?: NonNullable<FailedItemsCollected['retry']>;
  /** The run's failed-items file and sidecar so far. */
  failed: { filePath?: string; reasonsFilePath?: string; bytes: number; reasonsBytes: number; items: number };
}

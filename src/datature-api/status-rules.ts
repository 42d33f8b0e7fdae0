// The status rules of datasets, jobs and job items, and the eight item counters, in one place. No imports:
// the API client, the workflow sandbox, the activities, the CLI and the emulator all take them from here.

/** TS name -> wire name (PascalCase on the wire) of each of a job's eight item counters, in pipeline order. */
export const JOB_ITEM_COUNTERS = {
  gathered: 'Gathered',
  failedGather: 'FailedGather',
  preprocessed: 'Preprocessed',
  failedProcess: 'FailedProcess',
  predicted: 'Predicted',
  failedPredict: 'FailedPredict',
  delivered: 'Delivered',
  failedDeliver: 'FailedDeliver',
} as const;
export type JobItemCounterName = keyof typeof JOB_ITEM_COUNTERS;
export type JobItemCounterWireName = (typeof JOB_ITEM_COUNTERS)[JobItemCounterName];
export type JobItemCounters = Record<JobItemCounterName, number>;
export const JOB_ITEM_COUNTER_NAMES = Object.keys(JOB_ITEM_COUNTERS) as JobItemCounterName[];
export const JOB_ITEM_COUNTER_WIRE_NAMES = Object.values(JOB_ITEM_COUNTERS) as JobItemCounterWireName[];

export function zeroJobItemCounters(): JobItemCounters {
  return {
    gathered: 0,
    failedGather: 0,
    preprocessed: 0,
    failedProcess: 0,
    predicted: 0,
    failedPredict: 0,
    delivered: 0,
    failedDeliver: 0,
  };
}

/** Only the eight counters, in TS names (what a run keeps of a job's `items`, which may carry more fields). */
export function pickJobItemCounters(items: JobItemCounters): JobItemCounters {
  const out = zeroJobItemCounters();
  for (const name of JOB_ITEM_COUNTER_NAMES) out[name] = items[name];
  return out;
}

/**
 * How an item ended, as its job log entry says (`status`). The seed shows only `Delivered`; the failure names
 * are the emulator's documented assumption (docs/emulator.md): one per stage, named like the stage's counter.
 */
export const ITEM_STATUSES = ['Delivered', 'FailedGather', 'FailedProcess', 'FailedPredict', 'FailedDeliver'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];
export type FailedItemStatus = Exclude<ItemStatus, 'Delivered'>;
export const FAILED_ITEM_STATUSES: readonly FailedItemStatus[] = [
  'FailedGather',
  'FailedProcess',
  'FailedPredict',
  'FailedDeliver',
];
/** The failures worth a second try by default: a storage URL or a webhook endpoint that was briefly away. */
export const DEFAULT_RETRY_STATUSES: readonly FailedItemStatus[] = ['FailedGather', 'FailedDeliver'];

/** A log entry says its item failed: any `Failed…` status (a status this code does not know yet included), or level Error. */
export function isFailedItemEntry(entry: { readonly status: string; readonly level?: string }): boolean {
  return entry.status.startsWith('Failed') || entry.level === 'Error';
}

/**
 * The counters an item's end adds (wire names; the stage counters it passed were added as it went). An item
 * failing at any stage never has its result delivered, so it counts in `FailedDeliver` as well as in its
 * stage's counter: that keeps `Delivered + FailedDeliver == itemCount` once every item has ended.
 */
export function countersOfItemEnd(status: ItemStatus): Partial<Record<JobItemCounterWireName, number>> {
  if (status === 'Delivered') return { Delivered: 1 };
  if (status === 'FailedDeliver') return { FailedDeliver: 1 };
  return { [status]: 1, FailedDeliver: 1 };
}

/**
 * Items of a job that are done, delivered or not: `Delivered + FailedDeliver`, the completion test of the
 * official SDK's `jobs.wait_until_done` (reference section 5.5). Adding the stage failures too would count
 * an item twice (see countersOfItemEnd) and end a wait early.
 */
export function itemsAccountedFor(items: { readonly delivered: number; readonly failedDeliver: number }): number {
  return items.delivered + items.failedDeliver;
}

/** Failed items by the stage they failed at (`deliver` is FailedDeliver without the items counted there for an earlier stage). */
export interface FailedByStage {
  gather: number;
  process: number;
  predict: number;
  deliver: number;
}

export function failedByStage(items: JobItemCounters): FailedByStage {
  const earlier = items.failedGather + items.failedProcess + items.failedPredict;
  return {
    gather: items.failedGather,
    process: items.failedProcess,
    predict: items.failedPredict,
    deliver: Math.max(0, items.failedDeliver - earlier),
  };
}

export function failedItems(items: JobItemCounters): number {
  const byStage = failedByStage(items);
  return byStage.gather + byStage.process + byStage.predict + byStage.deliver;
}

/** Job overviews that mean the job ended: `Reached` (its items ran, or its stopAtTime cut it off) and `Failed`. */
export const JOB_REACHED = 'Reached';
export const JOB_FAILED = 'Failed';

export function jobHasEnded(overview: string): boolean {
  return overview === JOB_REACHED || overview === JOB_FAILED;
}

/**
 * The job-completion rule (a `Failed` job is the caller's error, checked first): `Reached`, or every item of
 * the dataset accounted for. `>=` where the SDK tests `==`: counters that ever overshoot must not turn into a
 * wait until timeout. An unknown item count (0: the dataset was deleted) leaves only `Reached`.
 */
export function jobIsDone(
  job: { readonly overview: string; readonly items: { readonly delivered: number; readonly failedDeliver: number } },
  itemCount: number | undefined,
): boolean {
  if (job.overview === JOB_REACHED) return true;
  return itemCount !== undefined && itemCount > 0 && itemsAccountedFor(job.items) >= itemCount;
}

/** The dataset-done rule: `Uploaded` is ready; `FailedUpload` and `FailedProcessing` end it; anything else is on its way. */
export function datasetState(overview: string): 'ready' | 'failed' | 'pending' {
  if (overview === 'Uploaded') return 'ready';
  if (overview === 'FailedUpload' || overview === 'FailedProcessing') return 'failed';
  return 'pending';
}

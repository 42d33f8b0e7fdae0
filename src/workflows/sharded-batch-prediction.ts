// A run given `sharding`: the parent of one child `batchPrediction` run per item range of its source (docs/pipeline.md,
// "Sharding"). It reads the source once (validation and count), then keeps at most `maxParallelShards` children
// going, spread round-robin over the deployments; a failed shard is tried again (on the next deployment) while
// the others go on. Its history stays bounded: once long, it starts no more children, lets the running ones
// finish and continues-as-new carrying a compact shard table (a character per shard plus two counts), never
// item lists. Children continue across the parent's continue-as-new only by being finished first: a closing
// run applies its children's parent close policy.

import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ActivityCancellationType,
  ApplicationFailure,
  ChildWorkflowCancellationType,
  type ChildWorkflowHandle,
  ContinueAsNew,
  condition,
  continueAsNew,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { itemsAccountedFor, zeroJobItemCounters } from '../datature-api/status-rules';
import type { BatchActivities } from './activity-contract';
import type { batchPrediction } from './batch-prediction';
import {
  type BatchPhase,
  BatchPhaseKey,
  type BatchPredictionInput,
  type BatchPredictionResult,
  type BatchProgress,
  checkNowSignal,
  type ItemRange,
  isoTime,
  type JobInput,
  type JobItemCounters,
  type PhaseTimings,
  progressQuery,
  SHARD_BYTES_MEMO,
  type ShardCounts,
  type ShardFailure,
  type ShardSummary,
  type ShardsResult,
  shardProgressSignal,
  stopShardReportsSignal,
  WORKFLOW_TYPE,
} from './definitions';
import { FailureType } from './failures';
import { shardWorkflowIdFor } from './resource-names';
import { ACTIVITY_RETRY } from './retry-policy';
import { rootApplicationFailure } from './root-cause';
import { RunCancellation } from './run-cancellation';

const DEFAULT_MAX_SHARD_ATTEMPTS = 3;
/**
 * Runs recorded before SHARD_COUNT_AWARE_DRAIN drained at this many events whatever the parallelism, so 100
 * running shards (about 10 events each while the drain lasts) took a run to about 2,000 events.
 */
const LEGACY_MAX_HISTORY_EVENTS = 1_000;
/** Each parent run stays under this many events by default (docs/pipeline.md "Limits"; Temporal's limit is 51,200). */
const HISTORY_BOUND = 1_800;
/**
 * What a running shard can still add to the parent's run once the drain starts: its stop signal (2 events),
 * a report already sent (1), its end (1), and the workflow tasks they wake (3 each when none is shared).
 */
const EVENTS_PER_DRAINING_SHARD = 12;
/** The drain never starts earlier than this: each run still starts a useful number of shards. */
const MIN_DRAIN_AT = 200;
/** Patch id: the drain starts once the history is long (not at the next shard's end), and stops the shards' reports. */
const BOUNDED_DRAIN = 'shard-drain-bounded';
/** Patch id: the default drain point leaves room for every running shard's drain events under HISTORY_BOUND. */
const SHARD_COUNT_AWARE_DRAIN = 'shard-drain-by-parallelism';

/** Where a run starts to drain when the input does not say (`sharding.maxHistoryEvents`). */
export function defaultDrainAt(maxParallelShards: number): number {
  return Math.max(MIN_DRAIN_AT, HISTORY_BOUND - EVENTS_PER_DRAINING_SHARD * maxParallelShards);
}
/** The result lists this many shards one by one; the counts cover them all. */
const MAX_SUMMARIES = 1_000;
/** The failure message names this many shards; the details list them all. */
const MAX_NAMED_FAILURES = 5;
const LONG_ACTIVITY_MS = 2 * 3_600_000;

/** A shard's state, one character each in the carried table. */
const WAITING = '.';
const RUNNING = 'r';
const DONE = 'd';
/** Completed by an earlier execution of this workflow id (its child id was taken by a completed run). */
const DONE_EARLIER = 'e';
const FAILED = 'f';

/** What survives continue-as-new: a few bytes per shard, whatever its item count. */
export interface ShardedState {
  sharded: true;
  itemCount: number;
  /** One character per shard (see WAITING…FAILED). No shard is running when the run continues as new. */
  status: string;
  /** Tries so far of the shards tried at least once. */
  attempts: Record<string, number>;
  /**
   * Where shards 1, 2, … start in the source's bytes (absent for a run validated before they were noted): each
   * shard reads its own bytes. About 11 bytes per shard in the carried table.
   */
  shardStarts?: number[];
  /** Per shard: items delivered, and items the job failed (0 until done). */
  delivered: number[];
  failedItems: number[];
  /** The done shards' job counters, summed. */
  totals: JobItemCounters;
  failures: ShardFailure[];
  retries: number;
  phase: BatchPhase;
  timings: PhaseTimings;
  runs: number;
}

function addCounters(sum: JobItemCounters, items: JobItemCounters): JobItemCounters {
  const out = { ...sum };
  for (const key of Object.keys(out) as (keyof JobItemCounters)[]) out[key] += items[key] ?? 0;
  return out;
}

function failedItemsOf(items: JobItemCounters): number {
  return items.failedGather + items.failedProcess + items.failedPredict + items.failedDeliver;
}

export async function shardedBatchPrediction(
  input: BatchPredictionInput,
  carried?: ShardedState,
): Promise<BatchPredictionResult> {
  const parent = new ShardedRun(input, carried);
  const cancellation = new RunCancellation();
  setHandler(progressQuery, () => parent.progress(cancellation.reason));
  setHandler(shardProgressSignal, (report) => parent.report(report.index, report.items));
  setHandler(checkNowSignal, () => parent.checkNow());
  try {
    return await cancellation.scope.run(() => parent.execute());
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (!isCancellation(err)) throw explain(err);
    throw await cancellation.end({
      beforeRequest: () => parent.enterPhase('cancelling'),
      requestCancellation: (request) => parent.activities.requestWorkflowCancellation(request),
      // Every running child was asked to cancel with the scope; each cleans up after itself (its job cancelled,
      // its dataset deleted per policy) and the parent waits for all of them.
      cleanUp: async () => {
        await condition(() => parent.runningCount === 0);
        parent.enterPhase('cancelled');
      },
    });
  }
}

type ShardBytes = Pick<ItemRange, 'byteStart' | 'byteEnd'>;

/** Shard `index`'s bytes in the source from where shards 1, 2, … start (the last shard's run to the end). */
export function shardBytesOf(shardStarts: readonly number[], index: number): ShardBytes {
  const byteStart = index === 0 ? 0 : shardStarts[index - 1];
  return index < shardStarts.length ? { byteStart, byteEnd: shardStarts[index] } : { byteStart };
}

/**
 * A shard's checked input with its bytes in the source, from the memo its parent started it with (SHARD_BYTES_MEMO);
 * unchanged for any other run. Its activities then read only those bytes.
 */
export function withShardBytes(input: BatchPredictionInput): BatchPredictionInput {
  const { dataset } = input;
  if (!dataset || !('itemRange' in dataset) || !dataset.itemRange || dataset.itemRange.byteStart !== undefined) {
    return input;
  }
  const bytes = workflowInfo().memo?.[SHARD_BYTES_MEMO] as { byteStart?: unknown; byteEnd?: unknown } | undefined;
  if (typeof bytes?.byteStart !== 'number') return input;
  const byteEnd = typeof bytes.byteEnd === 'number' ? { byteEnd: bytes.byteEnd } : {};
  return {
    ...input,
    dataset: { ...dataset, itemRange: { ...dataset.itemRange, byteStart: bytes.byteStart, ...byteEnd } },
  };
}

class ShardedRun {
  readonly activities = proxyActivities<Pick<BatchActivities, 'validateSource' | 'requestWorkflowCancellation'>>({
    startToCloseTimeout: LONG_ACTIVITY_MS,
    heartbeatTimeout: '20 seconds',
    retry: ACTIVITY_RETRY,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  private readonly sharding: NonNullable<BatchPredictionInput['sharding']>;
  private readonly job: JobInput;
  private state: ShardedState;
  /** The table in memory as an array (the carried string is rebuilt at continue-as-new). */
  private status: string[] = [];
  private readonly running = new Set<number>();
  /** The running shards' child handles, for forwarding `checkNow`. */
  private readonly children = new Map<number, ChildWorkflowHandle<typeof batchPrediction>>();
  private reportsStopped = false;
  /** The latest counters each running shard reported. */
  private readonly live = new Map<number, JobItemCounters>();
  /** Shards to try again, before the cursor's next waiting one. */
  private readonly retryQueue: number[] = [];
  private cursor = 0;
  private settled = 0;
  private upsertedPhase?: BatchPhase;

  constructor(
    private readonly input: BatchPredictionInput,
    carried?: ShardedState,
  ) {
    this.sharding = input.sharding!;
    this.job = input.job as JobInput;
    this.state = carried
      ? { ...carried, runs: carried.runs + 1 }
      : {
          sharded: true,
          itemCount: 0,
          status: '',
          attempts: {},
          delivered: [],
          failedItems: [],
          totals: zeroJobItemCounters(),
          failures: [],
          retries: 0,
          phase: 'validating',
          timings: {},
          runs: 1,
        };
    this.status = [...this.state.status];
    // A retry waiting when the previous run continued as new is found by the cursor like any waiting shard.
    this.upsertedPhase = carried?.phase;
  }

  get runningCount(): number {
    return this.running.size;
  }

  private get shardCount(): number {
    return this.status.length;
  }

  async execute(): Promise<BatchPredictionResult> {
    if (this.state.phase === 'validating') {
      this.enterPhase('validating');
      const source = this.input.dataset!;
      // No patch needed: activity arguments and child inputs are not part of what a replay compares, and a
      // worker that does not know `shardStartsEvery` answers without starts (its shards read the whole source).
      const { itemCount, shardStarts } = await this.activities.validateSource(source, {
        allowEmpty: this.input.allowEmptySource,
        shardStartsEvery: this.sharding.maxItemsPerShard,
      });
      const shardCount = Math.ceil(itemCount / this.sharding.maxItemsPerShard);
      this.state.itemCount = itemCount;
      if (shardStarts?.length === shardCount - 1) this.state.shardStarts = shardStarts;
      this.status = new Array<string>(shardCount).fill(WAITING);
      this.state.delivered = new Array<number>(shardCount).fill(0);
      this.state.failedItems = new Array<number>(shardCount).fill(0);
      if (itemCount === 0) {
        this.enterPhase('completed');
        return this.result('nothing-to-predict');
      }
    }
    this.enterPhase('running-shards');
    const maxHistoryEvents =
      this.sharding.maxHistoryEvents ??
      (patched(SHARD_COUNT_AWARE_DRAIN) ? defaultDrainAt(this.sharding.maxParallelShards) : LEGACY_MAX_HISTORY_EVENTS);
    const historyIsLong = () => {
      const info = workflowInfo();
      return info.continueAsNewSuggested || info.historyLength >= maxHistoryEvents;
    };
    // Runs recorded before this change drained only after a shard ended, and their shards kept reporting.
    const boundedDrain = patched(BOUNDED_DRAIN);
    let draining = false;
    for (;;) {
      while (!draining && this.running.size < this.sharding.maxParallelShards) {
        const index = this.nextWaiting();
        if (index === undefined) break;
        this.startShard(index);
      }
      this.showDetails();
      if (this.running.size === 0) {
        if (draining && this.hasWaiting()) {
          await continueAsNew<typeof batchPrediction>(this.input, { ...this.state, status: this.status.join('') });
        }
        break;
      }
      const settledBefore = this.settled;
      // Long shards: the drain starts as soon as the history is long, not at the next shard's end.
      await condition(() => this.settled > settledBefore || (boundedDrain && !draining && historyIsLong()));
      if (!draining && historyIsLong()) {
        draining = true;
        if (boundedDrain) this.stopShardReports();
      }
    }
    this.enterPhase('completed');
    const result = this.result('completed');
    if (this.state.failures.length > 0) throw this.shardsFailed(result.shards!);
    return result;
  }

  /** The next shard to start: a retry first, then the first never started. */
  private nextWaiting(): number | undefined {
    const retry = this.retryQueue.shift();
    if (retry !== undefined) return retry;
    while (this.cursor < this.shardCount && this.status[this.cursor] !== WAITING) this.cursor += 1;
    return this.cursor < this.shardCount ? this.cursor : undefined;
  }

  private hasWaiting(): boolean {
    return this.retryQueue.length > 0 || this.status.includes(WAITING);
  }

  rangeOf(index: number): ItemRange {
    const size = this.sharding.maxItemsPerShard;
    return { start: index * size, end: Math.min(this.state.itemCount, (index + 1) * size) };
  }

  /** Round-robin by shard index; a shard's next try goes to the next deployment. */
  deploymentOf(index: number, attempt: number): string | undefined {
    const ids = this.job.deploymentIds ?? (this.job.deploymentId ? [this.job.deploymentId] : undefined);
    return ids?.[(index + attempt - 1) % ids.length];
  }

  /** A normal run's input: the shard's item range of the source, one deployment, no sharding. */
  private childInput(index: number, attempt: number): BatchPredictionInput {
    const { sharding: _sharding, ...rest } = this.input;
    const { deploymentIds: _deploymentIds, ...job } = this.job;
    const deploymentId = this.deploymentOf(index, attempt);
    const source = this.input.dataset as Exclude<BatchPredictionInput['dataset'], { datasetId: string } | undefined>;
    return {
      ...rest,
      dataset: { ...source, itemRange: this.rangeOf(index) },
      job: deploymentId ? { ...job, deploymentId } : job,
      shardIndex: index,
    };
  }

  private startShard(index: number): void {
    const attempt = (this.state.attempts[index] ?? 0) + 1;
    this.state.attempts[index] = attempt;
    this.status[index] = RUNNING;
    this.running.add(index);
    const workflowId = shardWorkflowIdFor(workflowInfo().workflowId, index, attempt);
    const range = this.rangeOf(index);
    const deploymentId = this.deploymentOf(index, attempt);
    const bytes = this.state.shardStarts && shardBytesOf(this.state.shardStarts, index);
    const run = async () => {
      try {
        const child = await startChild<typeof batchPrediction>(WORKFLOW_TYPE, {
          workflowId,
          args: [this.childInput(index, attempt)],
          // The parent's cancel reaches every child (each cleans up itself), and is over once they all are.
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          // A shard an earlier execution of this workflow id completed is not run again.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          typedSearchAttributes: [{ key: BatchPhaseKey, value: 'validating' }],
          // Not in the input: a worker from before byte ranges would refuse it (SHARD_BYTES_MEMO).
          memo: bytes && { [SHARD_BYTES_MEMO]: bytes },
          staticSummary:
            `shard ${index + 1} of ${this.shardCount}: items ${range.start}–${range.end - 1}` +
            (deploymentId ? ` → deployment ${deploymentId}` : '') +
            (attempt > 1 ? ` (try ${attempt})` : ''),
        });
        this.children.set(index, child);
        if (this.reportsStopped) this.stopReportsOf(child);
        this.shardDone(index, await child.result());
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) this.shardDoneEarlier(index);
        else if (isCancellation(err)) this.status[index] = WAITING;
        else this.shardFailed(index, workflowId, attempt, err);
      } finally {
        this.running.delete(index);
        this.children.delete(index);
        this.live.delete(index);
        this.settled += 1;
      }
    };
    void run();
  }

  /** Tells the running shards (and any whose start is in flight) to stop reporting: one signal each. */
  private stopShardReports(): void {
    this.reportsStopped = true;
    for (const child of this.children.values()) this.stopReportsOf(child);
  }

  private stopReportsOf(child: ChildWorkflowHandle<typeof batchPrediction>): void {
    // A shard that ends meanwhile cannot take the signal: it has no more reports to send.
    child.signal(stopShardReportsSignal).catch(() => {});
  }

  /** `checkNow` (poke) on the parent: every running shard looks at its job now (one signal each, only when asked). */
  checkNow(): void {
    for (const child of this.children.values()) {
      // A shard that ends meanwhile cannot take the signal: nothing to look at any more.
      child.signal(checkNowSignal).catch(() => {});
    }
  }

  private shardDone(index: number, result: BatchPredictionResult): void {
    this.status[index] = DONE;
    const items = result.job?.items;
    if (!items) return;
    this.state.totals = addCounters(this.state.totals, items);
    this.state.delivered[index] = items.delivered;
    this.state.failedItems[index] = failedItemsOf(items);
  }

  private shardDoneEarlier(index: number): void {
    log.info('shard already completed by an earlier execution of this workflow id; not run again', { index });
    this.status[index] = DONE_EARLIER;
  }

  private shardFailed(index: number, workflowId: string, attempt: number, err: unknown): void {
    const root = rootApplicationFailure(err);
    const type = root?.type ?? (err as { cause?: Error }).cause?.name ?? 'ShardFailed';
    const message = root?.message ?? (err as { cause?: Error }).cause?.message ?? String(err);
    const maxAttempts = this.sharding.maxShardAttempts ?? DEFAULT_MAX_SHARD_ATTEMPTS;
    // A wrong input fails every try the same way.
    if (attempt < maxAttempts && type !== FailureType.InvalidInput) {
      log.warn('shard failed, trying it again', { index, attempt, type, message });
      this.state.retries += 1;
      this.status[index] = WAITING;
      this.retryQueue.push(index);
      return;
    }
    this.status[index] = FAILED;
    this.state.failures.push({ index, workflowId, type, message });
  }

  /** A running shard's latest counters (ignored once it has ended: its result counts instead). */
  report(index: number, items: JobItemCounters): void {
    if (this.running.has(index)) this.live.set(index, items);
  }

  counts(): ShardCounts {
    let waiting = 0;
    let done = 0;
    let failed = 0;
    for (const state of this.status) {
      if (state === WAITING) waiting += 1;
      else if (state === DONE || state === DONE_EARLIER) done += 1;
      else if (state === FAILED) failed += 1;
    }
    return { total: this.shardCount, waiting, running: this.running.size, done, failed, retries: this.state.retries };
  }

  /** Done shards' counters plus the running ones' latest reports. */
  private items(): JobItemCounters {
    let sum = this.state.totals;
    for (const items of this.live.values()) sum = addCounters(sum, items);
    return sum;
  }

  progress(cancelReason: string | undefined): BatchProgress {
    const { phase, itemCount, timings, runs } = this.state;
    const counts = this.counts();
    return {
      phase,
      itemCount,
      job: {
        overview: phase === 'completed' ? 'Reached' : 'Running',
        message: `${counts.done} of ${counts.total} shards done`,
        items: this.items(),
      },
      polls: 0,
      cancelReason,
      timings,
      runsSoFar: runs,
      shards: counts,
    };
  }

  private result(outcome: BatchPredictionResult['outcome']): BatchPredictionResult {
    const { itemCount, timings, runs, failures, delivered, failedItems } = this.state;
    const summaries: ShardSummary[] = [];
    for (let index = 0; index < Math.min(this.shardCount, MAX_SUMMARIES); index++) {
      const attempts = this.state.attempts[index] ?? 0;
      const state = this.status[index];
      summaries.push({
        index,
        itemRange: this.rangeOf(index),
        deploymentId: this.deploymentOf(index, Math.max(1, attempts)),
        workflowId: shardWorkflowIdFor(workflowInfo().workflowId, index, Math.max(1, attempts)),
        status: state === FAILED ? 'failed' : state === DONE_EARLIER ? 'done-earlier' : 'done',
        attempts,
        delivered: delivered[index] ?? 0,
        failedItems: failedItems[index] ?? 0,
      });
    }
    return {
      outcome,
      itemCount,
      job: { overview: 'Reached', message: `${this.shardCount} shards`, items: this.state.totals },
      timings,
      polls: 0,
      runs,
      shards: {
        ...this.counts(),
        maxItemsPerShard: this.sharding.maxItemsPerShard,
        summaries,
        // In shard order, whichever failed first.
        failures: [...failures].sort((a, b) => a.index - b.index),
      },
    };
  }

  private shardsFailed(shards: ShardsResult): ApplicationFailure {
    const named = shards.failures.slice(0, MAX_NAMED_FAILURES).map((failure) => {
      const range = this.rangeOf(failure.index);
      return `shard ${failure.index} (items ${range.start}–${range.end - 1}, ${failure.workflowId}): [${failure.type}] ${failure.message}`;
    });
    const more =
      shards.failures.length > MAX_NAMED_FAILURES ? `; and ${shards.failures.length - MAX_NAMED_FAILURES} more` : '';
    return ApplicationFailure.create({
      message: `${shards.failed} of ${shards.total} shards failed after their retries (${shards.done} done): ${named.join('; ')}${more}`,
      type: FailureType.ShardsFailed,
      nonRetryable: true,
      details: [shards],
    });
  }

  enterPhase(phase: BatchPhase): void {
    const now = isoTime(Date.now());
    const previous = this.state.timings[this.state.phase];
    if (previous && previous.endedAt === undefined && this.state.phase !== phase) previous.endedAt = now;
    this.state.phase = phase;
    this.state.timings[phase] ??= { startedAt: now };
    if (phase === 'completed' || phase === 'cancelled') this.state.timings[phase]!.endedAt = now;
    this.showDetails();
    if (this.upsertedPhase === phase) return;
    this.upsertedPhase = phase;
    upsertSearchAttributes([{ key: BatchPhaseKey, value: phase }]);
  }

  /** The run's page in the Web UI: phase, shards, items so far. Not a command. */
  private showDetails(): void {
    const counts = this.counts();
    const items = this.items();
    const lines = [`**phase**: ${this.state.phase}`];
    if (counts.total > 0) {
      lines.push(
        `**shards**: ${counts.done} done, ${counts.running} running, ${counts.failed} failed, ${counts.waiting} waiting ` +
          `of ${counts.total} (${this.sharding.maxItemsPerShard} items each, ${this.sharding.maxParallelShards} at once; ${counts.retries} retries)`,
      );
      lines.push(
        `**items**: ${itemsAccountedFor(items)} of ${this.state.itemCount} accounted for, ${items.delivered} delivered`,
      );
    }
    setCurrentDetails(lines.join('\n\n'));
  }
}

/** The root cause of a failure before any shard ran (the source check), as a single run says it. */
function explain(err: unknown): unknown {
  // The parent's own failure (ShardsFailed) already says it all.
  if (err instanceof ApplicationFailure) return err;
  const root = rootApplicationFailure(err);
  if (!root) return err;
  // A root cause without a type (not raised by our activities) reads as the API's.
  const type = root.type ?? FailureType.ApiUnavailable;
  return ApplicationFailure.create({
    message: root.message,
    type,
    nonRetryable: true,
    details: root.details ?? undefined,
    cause: err as Error,
  });
}

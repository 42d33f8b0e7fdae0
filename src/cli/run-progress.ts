import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import {
  type BatchPhase,
  BatchPhaseKey,
  type BatchProgress,
  epochMsOf,
  progressQuery,
  type ShardCounts,
} from '../workflows/definitions';
import { formatDelay } from '../workflows/durations';
import { formatBytes, ProgressBoard } from './progress-bar';

const itemCounters = ['gathered', 'predicted', 'delivered'] as const;

/**
 * On Temporal Cloud every query is a billable action; describing a run is not. So a watch describes the
 * run often (phase from its search attribute, upload bytes from the pending activity's heartbeat) and
 * queries its progress only when something can have changed: a new phase, or the run's planned look at
 * the job has happened. Never more often than this.
 */
export const MIN_QUERY_INTERVAL_MS = 5_000;
const DESCRIBE_INTERVAL_MS = 2_000;
/** A sharded run's progress is asked for this often while its shards run (a running shard reports every 5 min at most; a shard that ends counts at once). */
export const SHARDED_QUERY_INTERVAL_MS = 15_000;
const FRAME_MS = 250;
/** The run needs a moment after its planned look to have the new counters. */
const AFTER_LOOK_MS = 1_000;

/** What the watch knows when it decides whether to query. */
export interface WatchView {
  now: number;
  lastQueryAt?: number;
  /** The phase the last query answered, and the phase the last describe showed. */
  queriedPhase?: BatchPhase;
  describedPhase?: BatchPhase;
  /** The run's planned next look at its job or dataset, from the last query. */
  nextPollAt?: number;
  /** A sharded run: its counters move whenever a shard reports, with no planned look to wait for. */
  sharded?: boolean;
}

/** Pure: should the watch send the `progress` query now? */
export function queryIsDue(view: WatchView): boolean {
  if (view.lastQueryAt === undefined) return true;
  if (view.now - view.lastQueryAt < MIN_QUERY_INTERVAL_MS) return false;
  if (view.describedPhase !== undefined && view.describedPhase !== view.queriedPhase) return true;
  if (view.sharded) return view.now - view.lastQueryAt >= SHARDED_QUERY_INTERVAL_MS;
  return (
    view.nextPollAt !== undefined && view.now >= view.nextPollAt + AFTER_LOOK_MS && view.lastQueryAt < view.nextPollAt
  );
}

export interface WatchCounts {
  /** `progress` queries sent (billable on Temporal Cloud). */
  queries: number;
  /** Describe calls (not billable). */
  describes: number;
}

/**
 * The run's progress, or undefined when no worker answers within `timeoutMs`: a query needs a worker,
 * and without one the server would hold the call for ~30 s.
 */
export async function queryProgress(handle: WorkflowHandle, timeoutMs = 3000): Promise<BatchProgress | undefined> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      handle.query(progressQuery),
      sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => undefined),
    ]);
  } catch {
    return undefined;
  } finally {
    timeout.abort();
  }
}

interface Described {
  phase?: BatchPhase;
  /** From the pending validate/upload activity's heartbeat. */
  readBytes?: number;
  sentBytes?: number;
  totalBytes?: number;
}

/** Phase and transfer bytes from a describe of the run (not billed on Temporal Cloud, unlike a query). */
async function phaseAndBytesOf(handle: WorkflowHandle): Promise<Described | undefined> {
  try {
    const description = await handle.describe();
    const { defaultPayloadConverter } = require('@temporalio/common') as typeof import('@temporalio/common');
    const described: Described = { phase: description.typedSearchAttributes.get(BatchPhaseKey) as BatchPhase };
    for (const activity of description.raw.pendingActivities ?? []) {
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const details = defaultPayloadConverter.fromPayload<Partial<Described>>(payload);
      Object.assign(described, {
        readBytes: details?.readBytes,
        sentBytes: details?.sentBytes,
        totalBytes: details?.totalBytes,
      });
    }
    return described;
  } catch {
    return undefined;
  }
}

const spinner = ['|', '/', '-', '\\'];

/**
 * Draws the run's progress until it ends: the source check and upload (bytes from heartbeats), then items
 * gathered, predicted and delivered, with a line saying what the run does now and when it looks next.
 * Resolves when the run ends, whatever its outcome (read that with `handle.result()`), with the number of
 * queries and describes it took.
 */
export async function watchRun(handle: WorkflowHandle, options: { uploadBytes?: number } = {}): Promise<WatchCounts> {
  const board = new ProgressBoard();
  const counts: WatchCounts = { queries: 0, describes: 0 };
  let settled = false;
  const ended = handle.result().then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  let progress: BatchProgress | undefined;
  let described: Described | undefined;
  let lastQueryAt: number | undefined;
  let lastDescribeAt = 0;
  let frame = 0;
  const query = async () => {
    counts.queries += 1;
    lastQueryAt = Date.now();
    progress = (await queryProgress(handle)) ?? progress;
  };
  const draw = (final: boolean) => {
    const phase = described?.phase ?? progress?.phase;
    const uploadTotal = described?.totalBytes ?? options.uploadBytes;
    if (phase === 'validating' && described?.readBytes !== undefined) {
      board.set('validate', described.readBytes, options.uploadBytes, formatBytes);
    }
    // A sharded run uploads in its shards' runs, not itself: its bars are the shards' and their items.
    if (progress?.shards) board.set('shards', progress.shards.done, progress.shards.total);
    if (uploadTotal && phase !== 'validating' && !progress?.shards) {
      const uploaded = phase !== 'uploading' ? uploadTotal : (described?.sentBytes ?? 0);
      board.set('upload', uploaded, uploadTotal, formatBytes);
    }
    const items = progress?.job?.items;
    for (const counter of itemCounters) {
      // A bar appears once its phase has started, so the display follows the pipeline.
      if (!items || (items[counter] === 0 && !board.has(counter) && !final)) continue;
      board.set(counter, items[counter], progress?.itemCount);
    }
    // A countdown and spinner redrawn in place; in a log they would only repeat the same line.
    if (phase && process.stderr.isTTY) {
      board.set('now', 0, undefined, () => describeNow(phase, progress, final ? '' : spinner[frame % 4]));
    }
    board.render(final);
  };

  while (!settled) {
    const now = Date.now();
    if (now - lastDescribeAt >= DESCRIBE_INTERVAL_MS) {
      lastDescribeAt = now;
      counts.describes += 1;
      described = (await phaseAndBytesOf(handle)) ?? described;
    }
    const view: WatchView = {
      now: Date.now(),
      lastQueryAt,
      queriedPhase: progress?.phase,
      describedPhase: described?.phase,
      nextPollAt: progress?.nextPollAt === undefined ? undefined : epochMsOf(progress.nextPollAt),
      sharded: progress?.shards !== undefined,
    };
    if (queryIsDue(view)) await query();
    frame += 1;
    draw(false);
    await Promise.race([ended, sleep(FRAME_MS)]);
  }
  // A finished run whose worker is gone cannot answer; then the last view is final.
  await query();
  described = undefined;
  draw(true);
  return counts;
}

/** One line: the phase, and while waiting for the job, when the run looks next and the last API error. */
function describeNow(phase: BatchPhase, progress: BatchProgress | undefined, spin: string): string {
  // A retry round of failed items says which one it is.
  const round = progress?.round && progress.round > 1 ? ` (round ${progress.round})` : '';
  const parts = [`${phase}${round} ${spin}`.trim()];
  const nextPollAt = progress?.phase === phase ? progress.nextPollAt : undefined;
  if (nextPollAt !== undefined) {
    const inMs = epochMsOf(nextPollAt) - Date.now();
    parts.push(inMs >= 1000 ? `next look in ${formatDelay(inMs)}` : 'looking');
  }
  if (progress?.shards) parts.push(describeShards(progress.shards));
  if (progress?.lastError) parts.push(`API error, waiting it out: ${progress.lastError.message}`);
  return parts.join(' · ');
}

/** A sharded run's shards in a few words (the watch's line, `status`, the result). */
export function describeShards(shards: ShardCounts): string {
  const retries = shards.retries ? `, ${shards.retries} retried` : '';
  return `shards: ${shards.done} done, ${shards.running} running, ${shards.failed} failed, ${shards.waiting} waiting of ${shards.total}${retries}`;
}

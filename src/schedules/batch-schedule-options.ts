// What a recurring batch is made of, and how it maps onto a Temporal Schedule's spec, policies and action.
import type { ScheduleOptions, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { BatchInputError, describeModel, describeRun, describeSource, parseBatchPredictionInput } from '../run-client';
import { isParsedBatchPredictionInput } from '../run-client/input';
import { type BatchPredictionInput, DEFAULT_TASK_QUEUE, WORKFLOW_TYPE } from '../workflows/definitions';

import { BatchScheduleError } from './batch-schedule-error';
import { isOverlapPolicy, OVERLAP_POLICIES, type OverlapPolicy } from './overlap-policies';

/** When the batch runs: a cron expression or a fixed interval, with an optional time zone and jitter. */
export interface BatchScheduleTiming {
  /** Five-field cron, e.g. `0 2 * * *`. Exactly one of cron and every. */
  cron?: string;
  /** Interval such as `6h`, `30m`, `1d` or milliseconds. */
  every?: Duration;
  /** IANA zone the cron expression is read in (e.g. `Europe/Paris`); default UTC. */
  timeZone?: string;
  /** Each run starts up to this much later, at random (spreads load). */
  jitter?: Duration;
}

export interface BatchSchedulePolicies {
  /** What to do when a run is due while the previous one is still going. Default SKIP. */
  overlap?: OverlapPolicy;
  /** How far back missed runs are still started after an outage. Temporal's default: 1 year. */
  catchupWindow?: Duration;
  /** Pause the schedule when a run fails, until someone unpauses it. Default false. */
  pauseOnFailure?: boolean;
}

export interface BatchScheduleOptions extends BatchScheduleTiming, BatchSchedulePolicies {
  scheduleId: string;
  /**
   * The batchPrediction input of every run. Its dataset must be re-read at each run (`ndjsonPath` or
   * `ndjsonUrl`); `allowEmptySource` is forced on so an empty source ends a run as "nothing to predict".
   */
  input: BatchPredictionInput;
  /** Default `datature-batch`. */
  taskQueue?: string;
  /** Create the schedule paused. */
  paused?: boolean;
  note?: string;
}

/** Kept on the action's memo (copied onto every run): the server turns cron text into calendars. */
export interface BatchScheduleMemo {
  cron?: string;
  every?: string;
  timeZone?: string;
}

/** Also on the action's memo, beside the run's static summary: what every run reads and predicts with. */
export interface BatchScheduleShows {
  /** The source, a URL's query masked. */
  dataset: string;
  model: string;
}

export const SHOWS_MEMO_KEY = 'batch';

export const MEMO_KEY = 'batchSchedule';

/** The schedule as Temporal takes it, every rule checked (timing, policies, the runs' input). */
export function toScheduleOptions(options: BatchScheduleOptions): ScheduleOptions {
  return {
    scheduleId: options.scheduleId,
    spec: toScheduleSpec(options),
    action: toAction(options.scheduleId, options.input, toMemo(options), options.taskQueue),
    policies: toPolicies(options),
    state: { paused: options.paused ?? false, note: options.note },
  };
}

/**
 * Throws the BatchScheduleError `createBatchSchedule` would, without a server: callers check before
 * connecting. Returns the options with the runs' input checked, which `createBatchSchedule` takes as it is.
 */
export function checkBatchSchedule<Options extends BatchScheduleOptions>(options: Options): Options {
  toScheduleSpec(options);
  const input = scheduledInput(options.input);
  toPolicies(options);
  return { ...options, input };
}

export function toScheduleSpec(timing: BatchScheduleTiming): ScheduleSpec {
  if (Boolean(timing.cron) === (timing.every !== undefined)) {
    throw new BatchScheduleError('give exactly one of cron and every');
  }
  if (timing.cron !== undefined && timing.cron.trim().split(/\s+/).length !== 5) {
    throw new BatchScheduleError(`cron must have five fields (minute hour day month weekday), got '${timing.cron}'`);
  }
  return {
    ...(timing.cron
      ? { cronExpressions: [timing.cron.trim()] }
      : { intervals: [{ every: checkedDuration('every', timing.every!) }] }),
    ...(timing.timeZone ? { timezone: timing.timeZone } : {}),
    ...(timing.jitter !== undefined ? { jitter: checkedDuration('jitter', timing.jitter) } : {}),
  };
}

export function toMemo(timing: BatchScheduleTiming): BatchScheduleMemo {
  return {
    ...(timing.cron ? { cron: timing.cron.trim() } : {}),
    ...(timing.every !== undefined ? { every: String(timing.every) } : {}),
    ...(timing.timeZone ? { timeZone: timing.timeZone } : {}),
  };
}

export function toPolicies(policies: BatchSchedulePolicies) {
  if (policies.overlap !== undefined && !isOverlapPolicy(policies.overlap)) {
    throw new BatchScheduleError(`overlap must be one of ${OVERLAP_POLICIES.join(', ')}, got '${policies.overlap}'`);
  }
  return {
    overlap: policies.overlap ?? ('SKIP' satisfies OverlapPolicy),
    ...(policies.catchupWindow !== undefined
      ? { catchupWindow: checkedDuration('catchupWindow', policies.catchupWindow) }
      : {}),
    pauseOnFailure: policies.pauseOnFailure ?? false,
  };
}

/** The input every scheduled run gets: valid, a source re-read at run time, and an empty source is not an error. */
function scheduledInput(input: BatchPredictionInput): BatchPredictionInput {
  // Checked once: an input this function already returned is not parsed again.
  if (isParsedBatchPredictionInput(input) && input.allowEmptySource) return input;
  const source = input.dataset;
  if (!source || (!('ndjsonPath' in source) && !('ndjsonUrl' in source))) {
    throw new BatchScheduleError(
      'a scheduled batch needs a source read again at each run: dataset.ndjsonPath or dataset.ndjsonUrl',
    );
  }
  try {
    return parseBatchPredictionInput({ ...input, allowEmptySource: true });
  } catch (error) {
    if (error instanceof BatchInputError) throw new BatchScheduleError(error.message);
    throw error;
  }
}

export function toAction(
  scheduleId: string,
  input: BatchPredictionInput,
  memo: BatchScheduleMemo,
  taskQueue = DEFAULT_TASK_QUEUE,
): ScheduleOptionsAction {
  const args = scheduledInput(input);
  return {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPE,
    // The server appends the scheduled time, so each run has its own id: <scheduleId>-2026-11-28T02:00:00Z.
    workflowId: scheduleId,
    taskQueue,
    args: [args],
    memo: {
      [MEMO_KEY]: memo,
      [SHOWS_MEMO_KEY]: {
        dataset: describeSource(args.dataset),
        model: describeModel(args),
      } satisfies BatchScheduleShows,
    },
    // Every run shows its source and model in the Web UI, and is filterable by BatchPhase from its start.
    ...describeRun(args, scheduleId),
  };
}

function checkedDuration(name: string, value: Duration): Duration {
  let ms: number;
  try {
    ms = msToNumber(value);
  } catch {
    throw new BatchScheduleError(`${name} must be a duration such as 90s, 30m, 6h or 1d, got '${value}'`);
  }
  if (!(ms > 0) && name === 'every') throw new BatchScheduleError(`every must be longer than 0, got '${value}'`);
  if (ms < 0) throw new BatchScheduleError(`${name} must not be negative, got '${value}'`);
  return value;
}

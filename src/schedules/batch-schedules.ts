// Create and manage recurring batchPrediction runs on Temporal Schedules.
import {
  type Backfill,
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOverlapPolicy,
  WorkflowFailedError,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { BatchPredictionInput, BatchPredictionResult } from '../workflows/definitions';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import { BatchScheduleError } from './batch-schedule-error';
import {
  type BatchScheduleMemo,
  type BatchScheduleOptions,
  type BatchSchedulePolicies,
  type BatchScheduleShows,
  type BatchScheduleTiming,
  MEMO_KEY,
  SHOWS_MEMO_KEY,
  toAction,
  toMemo,
  toPolicies,
  toScheduleOptions,
  toScheduleSpec,
} from './batch-schedule-options';

export async function createBatchSchedule(client: Client, options: BatchScheduleOptions): Promise<ScheduleHandle> {
  try {
    return await client.schedule.create(toScheduleOptions(options));
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) {
      throw new BatchScheduleError(`schedule ${options.scheduleId} already exists (update or delete it)`);
    }
    throw error;
  }
}

export interface BatchScheduleSummary {
  scheduleId: string;
  workflowType?: string;
  paused: boolean;
  note?: string;
  nextRunTimes: Date[];
  lastRunAt?: Date;
}

/**
 * Every schedule starting batchPrediction. The server's schedule listing is eventually consistent: a
 * schedule created a moment ago may be missing; describe it by id to be sure.
 */
export async function listBatchSchedules(client: Client): Promise<BatchScheduleSummary[]> {
  const summaries: BatchScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.action?.workflowType !== WORKFLOW_TYPE) continue;
    summaries.push({
      scheduleId: schedule.scheduleId,
      workflowType: schedule.action.workflowType,
      paused: schedule.state.paused,
      note: schedule.state.note,
      nextRunTimes: schedule.info.nextActionTimes,
      lastRunAt: schedule.info.recentActions.at(-1)?.takenAt,
    });
  }
  return summaries.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export type RunStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'UNKNOWN';

export interface ScheduledRun {
  workflowId: string;
  scheduledAt: Date;
  startedAt: Date;
  status: RunStatus;
  /** Present once the run completed. */
  result?: BatchPredictionResult;
  /** Why the run failed, when it did. */
  failure?: string;
}

export interface BatchScheduleDetails {
  scheduleId: string;
  /** As given at creation: the server keeps cron text only as compiled calendars. */
  timing: BatchScheduleMemo;
  /** What every run reads and predicts with, and the summary each run shows in the Web UI. */
  shows: Partial<BatchScheduleShows> & { summary?: string };
  jitterMs?: number;
  policies: { overlap: ScheduleOverlapPolicy; catchupWindowMs: number; pauseOnFailure: boolean };
  paused: boolean;
  note?: string;
  taskQueue?: string;
  input: BatchPredictionInput;
  nextRunTimes: Date[];
  /** Oldest first, up to the last 10 the server remembers, with each run's status and result. */
  recentRuns: ScheduledRun[];
  runningWorkflowIds: string[];
  runsTaken: number;
  runsSkippedForOverlap: number;
  runsMissedCatchupWindow: number;
  createdAt: Date;
}

export async function describeBatchSchedule(client: Client, scheduleId: string): Promise<BatchScheduleDetails> {
  const description = await client.schedule.getHandle(scheduleId).describe();
  return {
    scheduleId,
    timing: memoOf(description),
    shows: {
      ...((description.action.memo?.[SHOWS_MEMO_KEY] ?? {}) as Partial<BatchScheduleShows>),
      summary: description.action.staticSummary,
    },
    jitterMs: description.spec.jitter,
    policies: {
      overlap: description.policies.overlap,
      catchupWindowMs: description.policies.catchupWindow,
      pauseOnFailure: description.policies.pauseOnFailure,
    },
    paused: description.state.paused,
    note: description.state.note,
    taskQueue: description.action.taskQueue,
    input: description.action.args?.[0] as BatchPredictionInput,
    nextRunTimes: description.info.nextActionTimes,
    recentRuns: await Promise.all(
      description.info.recentActions.map((action) =>
        runOf(client, action.action.workflow, action.scheduledAt, action.takenAt),
      ),
    ),
    runningWorkflowIds: description.info.runningActions.map((action) => action.workflow.workflowId),
    runsTaken: description.info.numActionsTaken,
    runsSkippedForOverlap: description.info.numActionsSkippedOverlap,
    runsMissedCatchupWindow: description.info.numActionsMissedCatchupWindow,
    createdAt: description.info.createdAt,
  };
}

export async function pauseBatchSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseBatchSchedule(client: Client, scheduleId: string, note?: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/**
 * Starts a run now, under the schedule's own overlap policy unless `overlap` overrides it for this run
 * (the SDK's bare `trigger()` would use ALLOW_ALL, so a manual run could overlap a running one).
 */
export async function triggerBatchSchedule(
  client: Client,
  scheduleId: string,
  overlap?: ScheduleOverlapPolicy,
): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.trigger(overlap ?? (await handle.describe()).policies.overlap);
}

/** Runs the actions the schedule would have taken between start and end (e.g. after an outage). */
export async function backfillBatchSchedule(client: Client, scheduleId: string, backfill: Backfill): Promise<void> {
  if (!(backfill.start < backfill.end)) throw new BatchScheduleError('backfill start must be before its end');
  await client.schedule.getHandle(scheduleId).backfill(backfill);
}

export interface BatchScheduleChanges extends BatchSchedulePolicies, Partial<BatchScheduleTiming> {
  /** Derives the runs' new input from the current one (a full replacement ignores its argument). */
  input?: (current: BatchPredictionInput) => BatchPredictionInput;
  taskQueue?: string;
}

/** Changes timing, policies or input; what is not mentioned stays as it is. */
export async function updateBatchSchedule(client: Client, scheduleId: string, changes: BatchScheduleChanges) {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.update((previous) => {
    const previousMemo = memoOf(previous);
    const timingChanged = changes.cron !== undefined || changes.every !== undefined;
    const timing: BatchScheduleTiming = {
      cron: timingChanged ? changes.cron : previousMemo.cron,
      every: timingChanged ? changes.every : (previousMemo.every as Duration | undefined),
      timeZone: changes.timeZone ?? previousMemo.timeZone,
      jitter: changes.jitter ?? previous.spec.jitter,
    };
    const currentInput = previous.action.args?.[0] as BatchPredictionInput;
    return {
      ...previous,
      spec: toScheduleSpec(timing),
      action: toAction(
        scheduleId,
        changes.input ? changes.input(currentInput) : currentInput,
        toMemo(timing),
        changes.taskQueue ?? previous.action.taskQueue,
      ),
      policies: toPolicies({
        overlap: changes.overlap ?? previous.policies.overlap,
        catchupWindow: changes.catchupWindow ?? previous.policies.catchupWindow,
        pauseOnFailure: changes.pauseOnFailure ?? previous.policies.pauseOnFailure,
      }),
    };
  });
}

/** Deletes the schedule; runs already started keep going. */
export async function deleteBatchSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}

function memoOf(description: Pick<ScheduleDescription, 'action'>): BatchScheduleMemo {
  return (description.action.memo?.[MEMO_KEY] ?? {}) as BatchScheduleMemo;
}

/**
 * Two runs of a schedule can share a workflow id (manual triggers within one second of each other), so a run
 * is read by its first run id. A run that continued as new is followed to the latest run of its id.
 */
async function runOf(
  client: Client,
  { workflowId, firstExecutionRunId }: { workflowId: string; firstExecutionRunId: string },
  scheduledAt: Date,
  startedAt: Date,
): Promise<ScheduledRun> {
  const run: ScheduledRun = { workflowId, scheduledAt, startedAt, status: 'UNKNOWN' };
  type Run = (input: BatchPredictionInput) => Promise<BatchPredictionResult>;
  let handle = client.workflow.getHandle<Run>(workflowId, firstExecutionRunId);
  let { status } = await handle.describe();
  if (status.name === 'CONTINUED_AS_NEW') {
    handle = client.workflow.getHandle<Run>(workflowId);
    ({ status } = await handle.describe());
  }
  run.status = status.name as RunStatus;
  if (run.status === 'COMPLETED') run.result = await handle.result();
  if (run.status === 'FAILED') {
    run.failure = await handle.result().then(
      () => undefined,
      (error: unknown) => failureMessage(error),
    );
  }
  return run;
}

/** The messages down the cause chain (workflow failure -> activity failure -> its error), without repeats. */
function failureMessage(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error instanceof WorkflowFailedError ? error.cause : error;
  while (current instanceof Error) {
    if (current.message && !messages.includes(current.message)) messages.push(current.message);
    current = current.cause;
  }
  return messages.join(': ') || String(error);
}

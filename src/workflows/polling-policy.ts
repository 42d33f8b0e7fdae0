// When to look at a running job next. Pure: the workflow calls it with its own clock and seeded random, so
// the same history always gives the same timers. docs/pipeline.md ("Polling policy") explains the numbers.

export interface PollBounds {
  /** The shortest sleep (the first looks use it as is). */
  minIntervalMs: number;
  /** The longest sleep, whatever the estimate says. */
  maxIntervalMs: number;
}

/** What the policy remembers between two looks; carried across continue-as-new. */
export interface PollMemory {
  /** Looks at the running job so far. */
  polls: number;
  /** Items accounted for at the previous look. */
  lastAccounted?: number;
  lastDelayMs?: number;
  /** Looks in a row that saw no new item accounted for (after some had been). */
  stalledPolls: number;
  /** The last sleep was aimed at the estimated end (see AIM_MIN_MS): the next one is not. */
  aimed?: boolean;
}

export interface JobObservation {
  nowMs: number;
  /** The look failed (the API was unreachable or answered an error): the counters are the last ones seen. */
  failed?: boolean;
  /** When the job started running: creation, or its startAtTime when that was later. */
  runningSinceMs: number;
  accounted: number;
  itemCount: number;
  /** Epoch ms: the job stops itself then, so a look just after it sees the end. */
  stopAtTime?: number;
}

export const DEFAULT_POLL_BOUNDS: PollBounds = { minIntervalMs: 5_000, maxIntervalMs: 3_600_000 };

/** Without an estimate saying the job will run long, no sleep exceeds this. */
const SOFT_CAP_MS = 600_000;
/** The first looks keep the minimum interval: a short job is seen quickly. */
const QUICK_POLLS = 3;
/** After them, no sleep is shorter than this share of the time the job has run. */
const FLOOR_FRACTION = 0.01;
/**
 * The end may be noticed this share of the run time late at most: near the predicted end the run sleeps
 * this long rather than creeping up on it with many short looks.
 */
const LAG_FRACTION = 0.025;
/** While items flow: sleep half the estimated time left (the estimate is re-made at every look). */
const ETA_FRACTION = 0.5;
/** An estimate from the first few items is not trusted further than the time already run. */
const ETA_TRUST = 1;
/** With no item accounted for yet there is no estimate: each sleep is half the time run so far. */
const NO_ETA_GROWTH = 0.5;
/** A look that saw nothing new doubles the sleep (up to the lag budget). */
const STALL_BACKOFF = 2;
/**
 * A short job about to end: when the estimated end plus the lag budget comes before the floor (at least
 * `minIntervalMs`), a look at the floor would see the end that much late, so one look goes at the estimated
 * end plus the lag budget instead, but no sooner than this. With the default bounds only jobs shorter than
 * 200 s qualify (past that the lag budget alone exceeds the 5 s floor), and never twice in a row: a job later than its
 * estimate is then looked at on the usual floor, not crept up on.
 */
const AIM_MIN_MS = 1_000;
/** Every sleep is stretched by up to this share, so runs started together drift apart. */
const JITTER_FRACTION = 0.2;
/**
 * How widely the first look is spread: over a minute for a run a schedule started, so the runs one tick starts
 * together do not look in step (nor in step later: each sleep is jittered from there); for a run started
 * by hand a fifth of the minimum interval, so a short job is still seen quickly.
 */
export function firstLookSpreadMs(bounds: PollBounds, startedBySchedule: boolean): number {
  return startedBySchedule ? 60_000 : JITTER_FRACTION * bounds.minIntervalMs;
}
/** A job stops itself at its stopAtTime: look this long after it. */
export const STOP_GRACE_MS = 30_000;

/**
 * The sleep before the next look, and the memory to pass to the next call. `random` is a number in [0, 1)
 * from the workflow's seeded random: it only spreads the looks of runs that would otherwise coincide.
 */
export function nextPoll(
  memory: PollMemory,
  job: JobObservation,
  bounds: PollBounds,
  random: number,
): { delayMs: number; memory: PollMemory } {
  const elapsedMs = Math.max(0, job.nowMs - job.runningSinceMs);
  const { accounted, itemCount } = job;
  const sawProgress = memory.lastAccounted === undefined ? accounted > 0 : accounted > memory.lastAccounted;
  const stalledPolls = !sawProgress && accounted > 0 ? memory.stalledPolls + 1 : 0;
  const lagBudgetMs = LAG_FRACTION * elapsedMs;
  const remainingMs = accounted > 0 && itemCount > accounted ? ((itemCount - accounted) * elapsedMs) / accounted : 0;
  // A long estimate (or a long run) lets the sleep grow past the soft cap, never past the hard one.
  const capMs = Math.min(bounds.maxIntervalMs, Math.max(SOFT_CAP_MS, remainingMs / 4, lagBudgetMs));

  let delayMs: number;
  if (job.failed) {
    // Nothing was learnt, and hammering an API in trouble helps no one: back off up to the cap.
    delayMs = (memory.lastDelayMs ?? bounds.minIntervalMs) * STALL_BACKOFF;
  } else if (accounted === 0) {
    delayMs = NO_ETA_GROWTH * elapsedMs;
  } else if (stalledPolls === 0) {
    delayMs = Math.min(Math.max(ETA_FRACTION * remainingMs, lagBudgetMs), ETA_TRUST * elapsedMs);
  } else {
    delayMs = Math.min((memory.lastDelayMs ?? bounds.minIntervalMs) * STALL_BACKOFF, Math.max(lagBudgetMs, 1));
  }

  const polls = memory.polls + 1;
  const floorMs =
    polls <= QUICK_POLLS ? bounds.minIntervalMs : Math.max(bounds.minIntervalMs, FLOOR_FRACTION * elapsedMs);
  const aimMs = remainingMs + lagBudgetMs;
  const aimed = !job.failed && stalledPolls === 0 && remainingMs > 0 && !memory.aimed && aimMs < floorMs;
  const unjitteredMs = aimed ? Math.max(AIM_MIN_MS, aimMs) : Math.max(floorMs, delayMs);
  delayMs = Math.min(capMs, unjitteredMs * (1 + JITTER_FRACTION * random));
  delayMs = beforeStop(delayMs, job);
  // A failed look keeps the counters of the last good one, so a stall is still measured from them.
  const lastAccounted = job.failed ? memory.lastAccounted : accounted;
  return {
    delayMs,
    memory: {
      polls,
      lastAccounted,
      lastDelayMs: delayMs,
      stalledPolls: job.failed ? memory.stalledPolls : stalledPolls,
      ...(aimed ? { aimed } : {}),
    },
  };
}

/**
 * The sleep before the first look at a new job: until it starts (its startAtTime), then the minimum interval
 * stretched by up to `spreadMs` (see `firstLookSpreadMs`).
 */
export function firstLookDelayMs(
  job: Pick<JobObservation, 'nowMs' | 'runningSinceMs' | 'stopAtTime'>,
  bounds: PollBounds,
  random: number,
  spreadMs: number,
): number {
  const untilRunningMs = Math.max(0, job.runningSinceMs - job.nowMs);
  const lookMs = Math.min(bounds.maxIntervalMs, bounds.minIntervalMs + random * spreadMs);
  return beforeStop(untilRunningMs + lookMs, job);
}

/** A job stops itself at its stopAtTime: no sleep runs past it (and a short grace). */
function beforeStop(delayMs: number, job: Pick<JobObservation, 'nowMs' | 'stopAtTime'>): number {
  let bounded = delayMs;
  if (job.stopAtTime !== undefined) {
    const untilStopMs = job.stopAtTime + STOP_GRACE_MS - job.nowMs;
    if (untilStopMs > 0) bounded = Math.min(bounded, untilStopMs);
  }
  return Math.max(1, Math.round(bounded));
}

/** The dataset wait: processing has no counters, so the sleeps just grow with the time waited. */
export function datasetPollDelayMs(elapsedMs: number): number {
  return Math.round(Math.min(60_000, Math.max(2_000, 0.2 * elapsedMs)));
}

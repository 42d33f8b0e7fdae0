// Workflow interceptors bundled next to `batchPrediction` (bundleWorkflowCode `workflowInterceptorModules`):
// they derive the run, phase, item, poll and log metrics from what the workflow does (activity results, the
// BatchPhase search attribute) without touching the workflow's code. Deterministic: they only read workflow
// state and the workflow clock, and emit through the SDK's `metricMeter`, a sink that is skipped on replay
// (a worker replaying a history counts nothing twice).
import {
  ContinueAsNew,
  isCancellation,
  metricMeter,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
  workflowInfo,
} from '@temporalio/workflow';
import { BatchPhaseKey, type JobItemCounters } from '../workflows/definitions';
import { ITEMS, LOG_ENTRIES, PHASE_DURATION, POLLS, RUNS_ENDED, RUNS_STARTED } from './metric-names';

/** The eight job counters as (stage, outcome) pairs. */
const ITEM_COUNTERS: [keyof JobItemCounters, string, string][] = [
  ['gathered', 'gather', 'ok'],
  ['failedGather', 'gather', 'failed'],
  ['preprocessed', 'process', 'ok'],
  ['failedProcess', 'process', 'failed'],
  ['predicted', 'predict', 'ok'],
  ['failedPredict', 'predict', 'failed'],
  ['delivered', 'deliver', 'ok'],
  ['failedDeliver', 'deliver', 'failed'],
];
/** Phases a run passes through in no time: no duration to record. */
const INSTANT_PHASES = new Set(['completed', 'cancelled']);

/** What this module reads of the carried state of a continued run (second workflow argument). */
interface CarriedView {
  phase?: string;
  /** Epoch ms, or an ISO-8601 string. */
  timings?: Record<string, { startedAt?: number | string } | undefined>;
  job?: { items?: Partial<JobItemCounters> };
}

class RunMetrics {
  private phase?: string;
  private phaseStartedAt = 0;
  /** The job counters already counted, so every poll adds only what moved since. */
  private items: Partial<JobItemCounters> = {};

  private readonly runsStarted = metricMeter.createCounter(RUNS_STARTED, undefined, 'batch prediction runs started');
  private readonly runsEnded = metricMeter.createCounter(RUNS_ENDED, undefined, 'batch prediction runs ended');
  private readonly itemCounter = metricMeter.createCounter(ITEMS, undefined, 'job items by stage and outcome');
  private readonly phaseDuration = metricMeter.createHistogram(
    PHASE_DURATION,
    'float',
    undefined,
    'seconds spent in each pipeline phase',
  );
  private readonly polls = metricMeter.createCounter(POLLS, undefined, 'job status polls');
  private readonly logEntries = metricMeter.createCounter(LOG_ENTRIES, undefined, 'job log entries collected');

  started(args: unknown[]): void {
    const carried = args[1] as CarriedView | undefined;
    if (workflowInfo().continuedFromExecutionRunId === undefined || !carried) {
      this.runsStarted.add(1);
    } else {
      // A continued run: the phase and the counters seen so far come with it.
      this.phase = carried.phase;
      const startedAt = carried.phase ? carried.timings?.[carried.phase]?.startedAt : undefined;
      const epochMs = typeof startedAt === 'string' ? Date.parse(startedAt) : startedAt;
      this.phaseStartedAt = epochMs !== undefined && Number.isFinite(epochMs) ? epochMs : Date.now();
      this.items = { ...carried.job?.items };
    }
    this.observePhase();
  }

  ended(outcome: string): void {
    this.observePhase();
    this.recordPhase(Date.now());
    this.runsEnded.add(1, { outcome });
  }

  /** Called before every activity and timer and at the end: a phase change shows in the search attribute. */
  observePhase(): void {
    const phase = workflowInfo().typedSearchAttributes.get(BatchPhaseKey);
    if (phase === undefined || phase === this.phase) return;
    const now = Date.now();
    this.recordPhase(now);
    this.phase = phase;
    this.phaseStartedAt = now;
  }

  activityCompleted(activityType: string, result: unknown): void {
    if (activityType === 'getJob' || activityType === 'cancelJob') {
      if (activityType === 'getJob') this.polls.add(1, { phase: this.phase ?? 'unknown' });
      this.countItems((result as { items?: Partial<JobItemCounters> } | undefined)?.items);
    } else if (activityType === 'createJob') {
      // A retry round's job counts its items from zero: what moved is measured against it, not the last job.
      this.items = {};
    } else if (activityType === 'collectLogs') {
      const entries = (result as { entries?: unknown } | undefined)?.entries;
      if (typeof entries === 'number' && entries > 0) this.logEntries.add(entries);
    }
  }

  private countItems(items: Partial<JobItemCounters> | undefined): void {
    if (!items) return;
    for (const [field, stage, outcome] of ITEM_COUNTERS) {
      const now = items[field];
      if (typeof now !== 'number') continue;
      const delta = now - (this.items[field] ?? 0);
      if (delta > 0) {
        this.itemCounter.add(delta, { stage, outcome });
        this.items[field] = now;
      }
    }
  }

  private recordPhase(now: number): void {
    if (this.phase === undefined || INSTANT_PHASES.has(this.phase)) return;
    this.phaseDuration.record(Math.max(0, now - this.phaseStartedAt) / 1000, { phase: this.phase });
  }
}

class MetricsInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly run: RunMetrics) {}

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    this.run.started(input.args);
    try {
      const result = await next(input);
      const outcome = (result as { outcome?: unknown } | undefined)?.outcome;
      this.run.ended(typeof outcome === 'string' ? outcome : 'completed');
      return result;
    } catch (err) {
      if (err instanceof ContinueAsNew) throw err;
      this.run.ended(isCancellation(err) ? 'cancelled' : 'failed');
      throw err;
    }
  }
}

class MetricsOutbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly run: RunMetrics) {}

  async scheduleActivity(
    input: Parameters<NonNullable<WorkflowOutboundCallsInterceptor['scheduleActivity']>>[0],
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
  ): Promise<unknown> {
    this.run.observePhase();
    const result = await next(input);
    this.run.activityCompleted(input.activityType, result);
    return result;
  }

  startTimer(
    input: Parameters<NonNullable<WorkflowOutboundCallsInterceptor['startTimer']>>[0],
    next: Next<WorkflowOutboundCallsInterceptor, 'startTimer'>,
  ): Promise<void> {
    this.run.observePhase();
    return next(input);
  }
}

export const interceptors = (): WorkflowInterceptors => {
  const run = new RunMetrics();
  return { inbound: [new MetricsInbound(run)], outbound: [new MetricsOutbound(run)] };
};

import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchActivities } from '../activities/types';
// The nexus room's index would pull undici and zod into the sandbox; this file imports nothing.
import { itemsAccountedFor } from '../nexus/job-items';
import {
  type ApiErrorSeen,
  BatchDatasetIdKey,
  BatchJobIdKey,
  type BatchPhase,
  BatchPhaseKey,
  type BatchPredictionInput,
  type BatchPredictionResult,
  type BatchProgress,
  cancelSignal,
  checkNowSignal,
  type JobSnapshot,
  type LogsSummary,
  type PhaseTimings,
  progressQuery,
  type ReceiverCheck,
  TemporalScheduledByIdKey,
} from './definitions';
import {
  DEFAULT_POLL_BOUNDS,
  datasetPollDelayMs,
  firstLookDelayMs,
  firstLookSpreadMs,
  nextPoll,
  type PollBounds,
  type PollMemory,
} from './polling-policy';
import { datasetNameFor, jobNameFor, logFileNameFor, type RunChain } from './resource-names';

/**
 * Patch ids (see docs/pipeline.md, "Changing the workflow"): runs recorded before a change replay the old
 * path, new runs take the new one.
 */
const FIRST_LOOK_AFTER_A_SLEEP = 'first-look-after-a-sleep';

/** After cancelling a job, how long to wait for the API to report it stopped before collecting logs anyway. */
const STOP_WAIT_MS = 120_000;
const UPLOAD_NOT_SEEN_MS = 30 * 60_000;
const KNOWN_JOB_OVERVIEWS = new Set(['Waiting', 'Running', 'Reached', 'Failed']);

/** Long activities heartbeat on every chunk; a worker killed mid-transfer is noticed this fast. */
const HEARTBEAT_TIMEOUT = '20 seconds';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

/** Short API calls: a few retries over minutes; a day-long outage is an incident, not something to wait out. */
const api = proxyActivities<BatchActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry,
});

/**
 * A look at the job while it runs: a failed look is not the run's failure (the job goes on without us), so
 * it gets two quick retries and then the wait loop itself backs off and looks again, for as long as it takes.
 */
const look = proxyActivities<Pick<BatchActivities, 'getJob'>>({
  startToCloseTimeout: '30 seconds',
  retry: { ...retry, maximumAttempts: 3 },
});

/** Waiting for their cancellation to finish means a half-done create is always seen by the cleanup. */
const creating = proxyActivities<Pick<BatchActivities, 'uploadDataset' | 'createJob'>>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { ...retry, maximumAttempts: 10 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** A cancelled log collection is waited for, so the cleanup's own collection never shares the file with it. */
const streaming = proxyActivities<Pick<BatchActivities, 'validateSource' | 'collectLogs'>>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { ...retry, maximumAttempts: 10 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** What survives continue-as-new. */
export interface CarriedState {
  phase: BatchPhase;
  upsertedPhase?: BatchPhase;
  timings: PhaseTimings;
  datasetId?: string;
  /** True when this execution created the dataset (so its cleanup policy applies). */
  ownsDataset: boolean;
  itemCount?: number;
  jobId?: string;
  job?: JobSnapshot;
  jobRunningSince?: number;
  polls: number;
  runs: number;
  /** The polling policy's memory, and the look the previous run had planned (kept across continue-as-new). */
  pollMemory?: PollMemory;
  nextPollAt?: number;
  lastError?: ApiErrorSeen;
}

export async function batchPrediction(
  input: BatchPredictionInput,
  carried?: CarriedState,
): Promise<BatchPredictionResult> {
  const state: CarriedState = carried
    ? { ...carried, runs: carried.runs + 1 }
    : { phase: 'validating', timings: {}, ownsDataset: false, polls: 0, runs: 1 };
  const run = new PipelineRun(input, state);
  let cancelReason: string | undefined;
  const root = CancellationScope.current();
  const pipeline = new CancellationScope();

  setHandler(progressQuery, () => run.progress(cancelReason));
  setHandler(checkNowSignal, () => run.checkNow());
  setHandler(cancelSignal, (request) => {
    if (cancelReason !== undefined) return;
    cancelReason = request?.reason ?? 'cancel signal';
    pipeline.cancel();
  });

  try {
    return await pipeline.run(() => run.execute());
  } catch (err) {
    if (!isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.cleanUpAfterFailure());
      throw err;
    }
    cancelReason ??= 'workflow cancellation requested';
    const reason = cancelReason;
    await CancellationScope.nonCancellable(async () => {
      // A signal alone cannot make the execution end as Canceled: turn it into a real cancellation request,
      // so the signal, the Web UI and handle.cancel() all end the same way.
      if (!root.consideredCancelled) {
        try {
          await api.requestWorkflowCancellation({ workflowId: workflowInfo().workflowId, reason });
          await condition(() => root.consideredCancelled, '1 minute');
        } catch (err) {
          // Still clean up; the run then ends Failed (cause: cancelled) instead of Canceled.
          log.warn('could not turn the cancel signal into a cancellation request', { error: String(err) });
        }
      }
      await run.cleanUpAfterCancel();
    });
    throw new CancelledFailure(reason);
  }
}

class PipelineRun {
  private readonly chain: RunChain = {
    workflowId: workflowInfo().workflowId,
    firstExecutionRunId: workflowInfo().firstExecutionRunId,
  };
  private readonly pollBounds: PollBounds;
  private checkRequested = false;
  private loggedOverviews = new Set<string>();

  constructor(
    private readonly input: BatchPredictionInput,
    private readonly state: CarriedState,
  ) {
    this.pollBounds = {
      minIntervalMs: input.polling?.minIntervalMs ?? DEFAULT_POLL_BOUNDS.minIntervalMs,
      maxIntervalMs: input.polling?.maxIntervalMs ?? DEFAULT_POLL_BOUNDS.maxIntervalMs,
    };
  }

  progress(cancelReason: string | undefined): BatchProgress {
    const { phase, datasetId, jobId, itemCount, job, polls, timings, runs, nextPollAt, lastError } = this.state;
    return {
      phase,
      datasetId,
      jobId,
      itemCount,
      job,
      polls,
      nextPollAt,
      lastError,
      cancelReason,
      timings,
      runsSoFar: runs,
    };
  }

  /** The `checkNow` signal: the sleep in progress ends now (a request during an activity ends the next one). */
  checkNow(): void {
    this.checkRequested = true;
  }

  /** Sleeps until `at` or until a `checkNow` signal, whichever comes first. */
  private async sleepUntil(at: number, summary: string): Promise<void> {
    this.state.nextPollAt = at;
    const ms = at - Date.now();
    if (ms > 0 && !this.checkRequested) await condition(() => this.checkRequested, ms, { summary });
    this.checkRequested = false;
    this.state.nextPollAt = undefined;
  }

  async execute(): Promise<BatchPredictionResult> {
    if (!this.state.jobId) {
      const itemCount = await this.prepareDataset();
      if (itemCount === 0) return this.finishEmpty();
      await this.createJob();
    }
    const job = await this.waitForJob();
    const logs = this.input.logs?.collect ? await this.collectLogs() : undefined;
    const receiver = this.input.receiverUrl ? await this.checkReceiver(this.input.receiverUrl, job) : undefined;
    if (this.input.cleanup?.deleteDatasetOnSuccess && this.state.ownsDataset) {
      await api.deleteDatasetsNamed(datasetNameFor(this.chain));
    }
    // A log collection that finished despite a cancel request still leaves the request to honour.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('cancel requested');
    this.enterPhase('completed');
    const { datasetId, jobId, itemCount, timings, polls, runs } = this.state;
    return {
      outcome: 'completed',
      datasetId,
      jobId,
      itemCount: itemCount ?? 0,
      job,
      logs,
      receiver,
      timings,
      polls,
      runs,
    };
  }

  /** Phases 1-3; returns the number of items in the dataset. */
  private async prepareDataset(): Promise<number> {
    const source = this.input.dataset;
    this.enterPhase('validating');
    if ('datasetId' in source) {
      const dataset = await api.getDataset(source.datasetId);
      if (dataset.overview !== 'Uploaded') {
        throw ApplicationFailure.nonRetryable(
          `dataset ${source.datasetId} is ${dataset.overview}, not Uploaded: ${dataset.message}`,
          'DatasetNotReady',
        );
      }
      this.state.datasetId = source.datasetId;
      this.state.itemCount = dataset.itemCount;
      return dataset.itemCount;
    }
    const summary = await streaming.validateSource(source, { allowEmpty: this.input.allowEmptySource });
    if (summary.itemCount === 0) return 0;

    this.enterPhase('uploading');
    this.state.ownsDataset = true;
    const { datasetId } = await creating.uploadDataset({
      name: datasetNameFor(this.chain),
      source,
      expected: summary,
    });
    this.state.datasetId = datasetId;

    this.enterPhase('waiting-for-dataset');
    const startedAt = Date.now();
    for (;;) {
      const dataset = await api.getDataset(datasetId);
      if (dataset.overview === 'Uploaded') {
        this.state.itemCount = dataset.itemCount;
        return dataset.itemCount;
      }
      if (dataset.overview === 'FailedUpload' || dataset.overview === 'FailedProcessing') {
        throw ApplicationFailure.nonRetryable(
          `dataset ${datasetId} ended ${dataset.overview}: ${dataset.message}`,
          'DatasetFailed',
        );
      }
      // The hosted API may take a moment to notice an upload; this long means the bytes never landed.
      if (dataset.overview === 'Waiting' && Date.now() - startedAt > UPLOAD_NOT_SEEN_MS) {
        throw ApplicationFailure.nonRetryable(
          `dataset ${datasetId} is still Waiting ${UPLOAD_NOT_SEEN_MS / 60_000} min after its upload: the upload did not land`,
          'DatasetUploadLost',
        );
      }
      await this.sleepUntil(Date.now() + datasetPollDelayMs(Date.now() - startedAt), `dataset ${dataset.overview}`);
    }
  }

  private finishEmpty(): BatchPredictionResult {
    if (!this.input.allowEmptySource) {
      throw ApplicationFailure.nonRetryable('the dataset source has no items', 'EmptySource');
    }
    this.enterPhase('completed');
    const { timings, polls, runs } = this.state;
    return { outcome: 'nothing-to-predict', itemCount: 0, timings, polls, runs };
  }

  private async createJob(): Promise<void> {
    this.enterPhase('creating-job');
    const { receiverUrl } = this.input;
    const itemCount = this.state.itemCount ?? 0;
    const { jobId } = await creating.createJob({
      name: jobNameFor(this.chain, this.input.job.name),
      datasetId: this.state.datasetId!,
      job: this.input.job,
      watch: receiverUrl ? { receiverUrl, workflowId: this.chain.workflowId, itemCount } : undefined,
    });
    this.state.jobId = jobId;
  }

  private async waitForJob(): Promise<JobSnapshot> {
    this.enterPhase('waiting-for-job');
    const jobId = this.state.jobId!;
    const itemCount = this.state.itemCount ?? 0;
    const { startAtTime, stopAtTime } = this.input.job;
    // The look the previous run planned (continue-as-new), else none: look at once.
    let lookAt = this.state.nextPollAt;
    if (this.state.jobRunningSince === undefined) {
      this.state.pollMemory = { polls: 0, stalledPolls: 0 };
      if (patched(FIRST_LOOK_AFTER_A_SLEEP)) {
        // A job just created has nothing to show yet: the first look is a little later (spread for scheduled runs).
        this.state.jobRunningSince = Math.max(Date.now(), startAtTime ?? 0);
        const now = Date.now();
        const scheduled = workflowInfo().typedSearchAttributes.get(TemporalScheduledByIdKey) !== undefined;
        const spreadMs = this.input.polling?.firstLookSpreadMs ?? firstLookSpreadMs(this.pollBounds, scheduled);
        const job = { nowMs: now, runningSinceMs: this.state.jobRunningSince, stopAtTime };
        lookAt = now + firstLookDelayMs(job, this.pollBounds, Math.random(), spreadMs);
      } else {
        if (startAtTime !== undefined && startAtTime > Date.now()) {
          this.state.nextPollAt = startAtTime;
          await sleep(startAtTime - Date.now());
          this.state.nextPollAt = undefined;
        }
        this.state.jobRunningSince = Date.now();
      }
    }
    for (;;) {
      if (lookAt !== undefined) await this.sleepUntil(lookAt, this.waitSummary());
      const job = await this.lookAtJob(jobId);
      if (job) {
        if (job.overview === 'Failed') {
          throw ApplicationFailure.nonRetryable(`job ${jobId} failed: ${job.reason || job.message}`, 'JobFailed');
        }
        if (job.overview === 'Reached' || itemsAccountedFor(job.items) >= itemCount) return job;
        if (!KNOWN_JOB_OVERVIEWS.has(job.overview) && !this.loggedOverviews.has(job.overview)) {
          this.loggedOverviews.add(job.overview);
          log.warn('unknown job overview, still waiting', { jobId, overview: job.overview, message: job.message });
        }
      }
      const now = Date.now();
      const { delayMs, memory } = nextPoll(
        this.state.pollMemory ?? { polls: 0, stalledPolls: 0 },
        {
          nowMs: now,
          runningSinceMs: this.state.jobRunningSince!,
          accounted: this.state.job ? itemsAccountedFor(this.state.job.items) : 0,
          itemCount,
          stopAtTime,
          failed: job === undefined,
        },
        this.pollBounds,
        Math.random(),
      );
      this.state.pollMemory = memory;
      lookAt = now + delayMs;
      this.state.nextPollAt = lookAt;
      this.showDetails();
      if (this.historyIsLong()) {
        await continueAsNew<typeof batchPrediction>(this.input, this.state);
      }
    }
  }

  /**
   * One look at the job. An API that cannot be reached or answers an error does not fail the run while its
   * job may be running: the error is shown (progress, Web UI details) and the wait goes on. Only a job that
   * no longer exists ends it.
   */
  private async lookAtJob(jobId: string): Promise<JobSnapshot | undefined> {
    try {
      const job = await look.getJob(jobId);
      this.state.polls += 1;
      this.state.job = job;
      this.state.lastError = undefined;
      return job;
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      if (cause?.type === 'NotFoundError') {
        throw ApplicationFailure.nonRetryable(`job ${jobId} no longer exists: ${cause.message}`, 'JobNotFound');
      }
      const message = cause?.message ?? err.cause?.message ?? err.message;
      const previous = this.state.lastError;
      this.state.lastError = {
        message,
        type: cause?.type ?? undefined,
        since: previous?.since ?? Date.now(),
        count: (previous?.count ?? 0) + 1,
      };
      log.warn('could not look at the job, waiting to look again', { jobId, error: message });
      return undefined;
    }
  }

  /** What a person sees on the run's page in the Web UI ("current details"). */
  private showDetails(): void {
    const { phase, job, itemCount, nextPollAt, lastError } = this.state;
    const lines = [`**${phase}**`];
    if (job && itemCount) {
      const accounted = itemsAccountedFor(job.items);
      lines.push(
        `${job.overview}: ${accounted} of ${itemCount} items (${Math.floor((100 * accounted) / itemCount)} %), delivered ${job.items.delivered}`,
      );
    }
    if (nextPollAt !== undefined) lines.push(`next look: ${new Date(nextPollAt).toISOString()}`);
    if (lastError)
      lines.push(
        `last API error (${lastError.count} in a row since ${new Date(lastError.since).toISOString()}): ${lastError.message}`,
      );
    setCurrentDetails(lines.join('\n\n'));
  }

  private waitSummary(): string {
    const { job, itemCount } = this.state;
    if (!job || !itemCount) return 'waiting for the job';
    return `waiting for the job: ${Math.floor((100 * itemsAccountedFor(job.items)) / itemCount)} %`;
  }

  private historyIsLong(): boolean {
    const info = workflowInfo();
    const limit = this.input.polling?.maxHistoryEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  }

  private async collectLogs(): Promise<LogsSummary> {
    this.enterPhase('collecting-logs');
    return streaming.collectLogs({
      jobId: this.state.jobId!,
      fileName: logFileNameFor(this.chain),
      directory: this.input.logs?.directory,
      minLevel: this.input.logs?.minLevel,
    });
  }

  private async checkReceiver(receiverUrl: string, job: JobSnapshot): Promise<ReceiverCheck> {
    this.enterPhase('checking-receiver');
    const { predictions } = await api.countReceiverPredictions({ receiverUrl, jobId: this.state.jobId! });
    return { predictions, delivered: job.items.delivered, matchesDelivered: predictions === job.items.delivered };
  }

  /**
   * The one cleanup path for the `cancel` signal and a Temporal cancellation request. Runs non-cancellable:
   * stop the Datature job if there is one (and collect its logs so far), otherwise apply the dataset policy.
   */
  async cleanUpAfterCancel(): Promise<void> {
    const interruptedPhase = this.state.phase;
    this.enterPhase('cancelling');
    let jobId = this.state.jobId;
    if (!jobId && interruptedPhase === 'creating-job') {
      jobId = (await api.findJobByName(jobNameFor(this.chain, this.input.job.name)))?.jobId;
    }
    if (jobId) {
      this.state.jobId = jobId;
      this.state.job = await this.stopJob(jobId);
      const deadline = Date.now() + STOP_WAIT_MS;
      // A cancelled job only finishes its in-flight items: look again soon, then less often.
      for (let delay = 1_000; !isStopped(this.state.job) && Date.now() < deadline; delay = Math.min(delay * 2, 5_000)) {
        await sleep(delay);
        this.state.job = await api.getJob(jobId);
      }
      if (this.input.logs?.collect) await this.collectLogs();
    } else if (this.state.ownsDataset && (this.input.cleanup?.deleteDatasetOnCancel ?? true)) {
      // Only a dataset this run uploaded (set before the upload starts); a given {datasetId} is never deleted.
      await api.deleteDatasetsNamed(datasetNameFor(this.chain));
    }
    this.enterPhase('cancelled');
  }

  /** A run that failed before its job existed leaves no dataset behind (unless the policy keeps it). */
  async cleanUpAfterFailure(): Promise<void> {
    if (this.state.jobId || !this.state.ownsDataset || this.input.cleanup?.deleteDatasetOnFailure === false) return;
    try {
      await api.deleteDatasetsNamed(datasetNameFor(this.chain));
    } catch (err) {
      // The run's own failure is what the caller needs to see.
      log.warn('could not delete the dataset of a failed run', { error: String(err) });
    }
  }

  /** A job this run already saw end is not cancelled again (the activity also answers an ended job's state). */
  private async stopJob(jobId: string): Promise<JobSnapshot> {
    if (this.state.job && isStopped(this.state.job)) return this.state.job;
    return api.cancelJob(jobId);
  }

  private enterPhase(phase: BatchPhase): void {
    const now = Date.now();
    const previous = this.state.timings[this.state.phase];
    if (previous && previous.endedAt === undefined && this.state.phase !== phase) previous.endedAt = now;
    this.state.phase = phase;
    this.state.timings[phase] ??= { startedAt: now };
    if (phase === 'completed' || phase === 'cancelled') this.state.timings[phase]!.endedAt = now;
    if (this.state.upsertedPhase === phase) return;
    this.state.upsertedPhase = phase;
    // The ids ride along with the phase change that follows their creation: one upsert event per phase.
    const { datasetId, jobId } = this.state;
    upsertSearchAttributes([
      { key: BatchPhaseKey, value: phase },
      ...(datasetId ? [{ key: BatchDatasetIdKey, value: datasetId }] : []),
      ...(jobId ? [{ key: BatchJobIdKey, value: jobId }] : []),
    ]);
  }
}

function isStopped(job: JobSnapshot): boolean {
  return job.overview === 'Reached' || job.overview === 'Failed';
}

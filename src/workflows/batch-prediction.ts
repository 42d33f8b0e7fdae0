import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchActivities } from '../activities/types';
// The nexus room's index would pull undici and zod into the sandbox; this file imports nothing.
import { itemsAccountedFor } from '../nexus/job-items';
import {
  BatchDatasetIdKey,
  BatchJobIdKey,
  type BatchPhase,
  BatchPhaseKey,
  type BatchPredictionInput,
  type BatchPredictionResult,
  type BatchProgress,
  cancelSignal,
  type JobSnapshot,
  type LogsSummary,
  type PhaseTimings,
  progressQuery,
  type ReceiverCheck,
} from './definitions';
import { nextPollDelayMs, type PollBounds } from './poll-interval';
import { datasetNameFor, jobNameFor, logFileNameFor, type RunChain } from './resource-names';

const DEFAULT_POLL_BOUNDS: PollBounds = { minIntervalMs: 5_000, maxIntervalMs: 600_000 };
const DATASET_POLL_BOUNDS: PollBounds = { minIntervalMs: 2_000, maxIntervalMs: 60_000 };
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
  private nextPollAt?: number;
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
    const { phase, datasetId, jobId, itemCount, job, polls, timings, runs } = this.state;
    return {
      phase,
      datasetId,
      jobId,
      itemCount,
      job,
      polls,
      nextPollAt: this.nextPollAt,
      cancelReason,
      timings,
      runsSoFar: runs,
    };
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
      await sleep(
        nextPollDelayMs({ elapsedMs: Date.now() - startedAt, accounted: 0, itemCount: 0, bounds: DATASET_POLL_BOUNDS }),
      );
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
    const { jobId } = await creating.createJob({
      name: jobNameFor(this.chain, this.input.job.name),
      datasetId: this.state.datasetId!,
      job: this.input.job,
    });
    this.state.jobId = jobId;
  }

  private async waitForJob(): Promise<JobSnapshot> {
    this.enterPhase('waiting-for-job');
    const jobId = this.state.jobId!;
    const itemCount = this.state.itemCount ?? 0;
    if (this.state.jobRunningSince === undefined) {
      const startAt = this.input.job.startAtTime;
      if (startAt !== undefined && startAt > Date.now()) {
        this.nextPollAt = startAt;
        await sleep(startAt - Date.now());
      }
      this.state.jobRunningSince = Date.now();
    }
    for (;;) {
      const job = await api.getJob(jobId);
      this.state.polls += 1;
      this.state.job = job;
      if (job.overview === 'Failed') {
        throw ApplicationFailure.nonRetryable(`job ${jobId} failed: ${job.reason || job.message}`, 'JobFailed');
      }
      const accounted = itemsAccountedFor(job.items);
      if (job.overview === 'Reached' || accounted >= itemCount) return job;
      if (!KNOWN_JOB_OVERVIEWS.has(job.overview) && !this.loggedOverviews.has(job.overview)) {
        this.loggedOverviews.add(job.overview);
        log.warn('unknown job overview, still waiting', { jobId, overview: job.overview, message: job.message });
      }
      if (this.historyIsLong()) {
        this.nextPollAt = undefined;
        await continueAsNew<typeof batchPrediction>(this.input, this.state);
      }
      const delay = nextPollDelayMs({
        elapsedMs: Date.now() - this.state.jobRunningSince,
        accounted,
        itemCount,
        bounds: this.pollBounds,
      });
      this.nextPollAt = Date.now() + delay;
      await sleep(delay);
    }
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

import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// The datatureApi room's index would pull undici and zod into the sandbox; this file imports nothing.
import {
  datasetState,
  failedByStage,
  failedItems,
  itemsAccountedFor,
  JOB_FAILED,
  jobHasEnded,
  jobIsDone,
} from '../datature-api/status-rules';
// zod only (no I/O): the same schema the client helpers run, for callers in any language.
import { BatchInputError, parseBatchPredictionInput } from '../run-client/input';
import type { BatchActivities } from './activity-contract';
import {
  type ApiErrorSeen,
  BatchDatasetIdKey,
  BatchJobIdKey,
  type BatchPhase,
  BatchPhaseKey,
  type BatchPredictionInput,
  type BatchPredictionResult,
  type BatchProgress,
  type CleanupSummary,
  checkNowSignal,
  describeCleanup,
  epochMsOf,
  isAdoptedJob,
  isoTime,
  type JobInput,
  type JobSnapshot,
  type LogsSummary,
  type PhaseTimings,
  progressQuery,
  type ReceiverCheck,
  shardProgressSignal,
  stopShardReportsSignal,
  TemporalScheduledByIdKey,
} from './definitions';
import { formatDelay } from './durations';
import { type RetryState, retryPlanOf } from './failed-items';
import { FailureType } from './failures';
import {
  DEFAULT_POLL_BOUNDS,
  datasetPollDelayMs,
  firstLookDelayMs,
  firstLookSpreadMs,
  nextPoll,
  type PollBounds,
  type PollMemory,
} from './polling-policy';
import {
  datasetNameFor,
  failedItemsFileNamesFor,
  jobNameFor,
  logFileNameFor,
  type RunChain,
  roundItemsFileNameFor,
} from './resource-names';
import { ACTIVITY_RETRY } from './retry-policy';
import { rootApplicationFailure } from './root-cause';
import { CANCELLATION_REQUESTED, RunCancellation } from './run-cancellation';
import { type ShardedState, shardedBatchPrediction, withShardBytes } from './sharded-batch-prediction';

/**
 * Patch ids (see docs/pipeline.md, "Changing the workflow"): runs recorded before a change replay the old
 * path, new runs take the new one.
 */
const FIRST_LOOK_AFTER_A_SLEEP = 'first-look-after-a-sleep';
/** A job that ended with failed items: collect them, and run retry rounds (runs without failed items never ask). */
const RETRY_FAILED_ITEMS = 'retry-failed-items';

/** After cancelling a job, how long to wait for the API to report it stopped before collecting logs anyway. */
const STOP_WAIT_MS = 120_000;
const UPLOAD_NOT_SEEN_MS = 30 * 60_000;
const KNOWN_JOB_OVERVIEWS = new Set(['Waiting', 'Running', 'Reached', 'Failed']);
/** A shard's run reports its counters to its parent at most this often. */
const SHARD_REPORT_MS = 5 * 60_000;

/** Long activities heartbeat on every chunk; a worker killed mid-transfer is noticed this fast. */
const HEARTBEAT_TIMEOUT = '20 seconds';

/** How long a run rides out an API outage before its job exists (`limits.apiOutageMs`). */
const DEFAULT_API_OUTAGE_MS = 3_600_000;
/** How long a dataset may take to become `Uploaded` after its upload (`limits.datasetReadyMs`). */
const DEFAULT_DATASET_READY_MS = 24 * 3_600_000;
/** The longest an upload, a source check or a log collection may run in one attempt. */
const LONG_ACTIVITY_MS = 2 * 3_600_000;

/**
 * The activities, with retries bounded by time (the outage budget), not by a count of attempts: a burst of
 * 429s must not use up a run's retries in seconds.
 */
function pipelineActivities(apiOutageMs: number) {
  return {
    /** Short API calls. */
    api: proxyActivities<BatchActivities>({
      startToCloseTimeout: '30 seconds',
      scheduleToCloseTimeout: apiOutageMs,
      retry: ACTIVITY_RETRY,
    }),
    /**
     * A look at the job while it runs: a failed look is not the run's failure (the job goes on without us), so
     * it gets two quick retries and then the wait loop itself backs off and looks again, for as long as it takes.
     */
    look: proxyActivities<Pick<BatchActivities, 'getJob'>>({
      startToCloseTimeout: '30 seconds',
      retry: { ...ACTIVITY_RETRY, maximumAttempts: 3 },
    }),
    /** Waiting for their cancellation to finish means a half-done create is always seen by the cleanup. */
    creating: proxyActivities<Pick<BatchActivities, 'uploadDataset' | 'createJob'>>({
      startToCloseTimeout: LONG_ACTIVITY_MS,
      scheduleToCloseTimeout: LONG_ACTIVITY_MS + apiOutageMs,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      retry: ACTIVITY_RETRY,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
    /** A cancelled log collection is waited for, so the cleanup's own collection never shares the file with it. */
    streaming: proxyActivities<Pick<BatchActivities, 'validateSource' | 'collectLogs' | 'collectFailedItems'>>({
      startToCloseTimeout: LONG_ACTIVITY_MS,
      scheduleToCloseTimeout: LONG_ACTIVITY_MS + apiOutageMs,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      retry: ACTIVITY_RETRY,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
  };
}

type PipelineActivities = ReturnType<typeof pipelineActivities>;

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
  /** The job's startAtTime/stopAtTime (from the input, or from an adopted job). */
  jobWindow?: { startAtTime?: number; stopAtTime?: number };
  /** When the upload finished: the dataset wait's deadlines count from it. */
  datasetUploadedAt?: number;
  polls: number;
  runs: number;
  /** The polling policy's memory, and the look the previous run had planned (kept across continue-as-new). */
  pollMemory?: PollMemory;
  nextPollAt?: number;
  lastError?: ApiErrorSeen;
  /** Retry rounds of failed items (the fields above then describe the round in flight). */
  retry?: RetryState;
}

export async function batchPrediction(
  given: BatchPredictionInput,
  carried?: CarriedState | ShardedState,
): Promise<BatchPredictionResult> {
  // Checked and normalised once, where the input enters (times as ISO-8601, epoch ms accepted); a continued
  // run's input is its first run's, already normalised (or, in runs recorded before ISO times, epoch ms).
  // A shard's first run takes its bytes in the source from its memo; a continued run's input has them already.
  const input = carried ? given : withShardBytes(checkInput(given));
  // One entry point: a run given `sharding` is the parent of its shards' runs (each a batchPrediction itself).
  if (input.sharding) return shardedBatchPrediction(input, carried as ShardedState | undefined);
  return runPipeline(input, carried as CarriedState | undefined);
}

async function runPipeline(input: BatchPredictionInput, carried?: CarriedState): Promise<BatchPredictionResult> {
  const state: CarriedState = carried
    ? { ...carried, timings: isoTimings(carried.timings), runs: carried.runs + 1 }
    : { phase: 'validating', timings: {}, ownsDataset: false, polls: 0, runs: 1 };
  const activities = pipelineActivities(input.limits?.apiOutageMs ?? DEFAULT_API_OUTAGE_MS);
  const { api } = activities;
  const run = new PipelineRun(input, state, activities);
  const cancellation = new RunCancellation();

  setHandler(progressQuery, () => run.progress(cancellation.reason));
  setHandler(checkNowSignal, () => run.checkNow());
  setHandler(stopShardReportsSignal, () => run.stopReports());

  try {
    return await cancellation.scope.run(() => run.execute());
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (!isCancellation(err)) {
      await CancellationScope.nonCancellable(() => run.cleanUpAfterFailure());
      throw run.explain(err);
    }
    throw await cancellation.end({
      requestCancellation: (request) => api.requestWorkflowCancellation(request),
      cleanUp: (reason) => run.cleanUpAfterCancel(reason),
    });
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
  private lastReportAt?: number;
  private reportedAccounted = -1;
  /** Set by the parent when it drains: its history must not grow while it waits for its running shards. */
  private reportsStopped = false;
  /** What a cancel or a failure cleaned up (the dataset is `kept` unless deleted). */
  cleanup: CleanupSummary = { dataset: 'kept' };

  private readonly api: PipelineActivities['api'];
  private readonly look: PipelineActivities['look'];
  private readonly creating: PipelineActivities['creating'];
  private readonly streaming: PipelineActivities['streaming'];

  constructor(
    private readonly input: BatchPredictionInput,
    private readonly state: CarriedState,
    activities: PipelineActivities,
  ) {
    ({ api: this.api, look: this.look, creating: this.creating, streaming: this.streaming } = activities);
    this.pollBounds = {
      minIntervalMs: input.polling?.minIntervalMs ?? DEFAULT_POLL_BOUNDS.minIntervalMs,
      maxIntervalMs: input.polling?.maxIntervalMs ?? DEFAULT_POLL_BOUNDS.maxIntervalMs,
    };
  }

  progress(cancelReason: string | undefined): BatchProgress {
    const { phase, datasetId, jobId, itemCount, job, polls, timings, runs, nextPollAt, lastError } = this.state;
    const cleanedUp = phase === 'cancelled' || this.cleanup.dataset === 'deleted';
    return {
      cleanup: cleanedUp ? this.cleanup : undefined,
      phase,
      datasetId,
      jobId,
      itemCount,
      job,
      polls,
      nextPollAt: nextPollAt === undefined ? undefined : isoTime(nextPollAt),
      lastError,
      cancelReason,
      timings,
      runsSoFar: runs,
      ...(this.state.retry ? { round: this.state.retry.round, rounds: this.state.retry.rounds } : {}),
    };
  }

  /** The `checkNow` signal: the sleep in progress ends now (a request during an activity ends the next one). */
  checkNow(): void {
    this.checkRequested = true;
  }

  /** Sleeps until `at` or until a `checkNow` signal, whichever comes first. */
  private async sleepUntil(at: number, what: string): Promise<void> {
    this.state.nextPollAt = at;
    const ms = at - Date.now();
    this.showDetails();
    if (ms > 0 && !this.checkRequested) {
      // The timer's label in the Web UI's event history and timeline: "waiting for job: 62 % — next look in 3 min".
      await condition(() => this.checkRequested, ms, { summary: `${what} — next look in ${formatDelay(ms)}` });
    }
    this.checkRequested = false;
    this.state.nextPollAt = undefined;
  }

  /** The job this run creates; undefined when it adopts one (`job: { jobId }`). */
  private get jobToCreate(): JobInput | undefined {
    return isAdoptedJob(this.input.job) ? undefined : this.input.job;
  }

  async execute(): Promise<BatchPredictionResult> {
    if (!this.state.jobId) {
      if (this.state.retry) {
        // A retry round continued (continue-as-new) before its job existed.
        await this.prepareRoundDataset(this.state.retry);
        await this.createJob(this.jobToCreate!);
      } else if (isAdoptedJob(this.input.job)) {
        await this.adoptJob(this.input.job.jobId);
      } else {
        const itemCount = await this.prepareDataset();
        if (itemCount === 0) return this.finishEmpty();
        await this.createJob(this.input.job);
      }
    }
    let job = await this.waitForJob();
    let logs = this.input.logs?.collect ? await this.collectLogs() : undefined;
    while (await this.startNextRound(job, logs)) {
      job = await this.waitForJob();
      logs = this.input.logs?.collect ? await this.collectLogs() : undefined;
    }
    const { retry } = this.state;
    const receiver = this.input.receiverUrl ? await this.checkReceiver(this.input.receiverUrl, job) : undefined;
    if (this.input.cleanup?.deleteDatasetOnSuccess) {
      if (!retry) {
        if (this.state.ownsDataset) await this.api.deleteDatasetsNamed(datasetNameFor(this.chain));
      } else {
        for (const { round } of retry.rounds) {
          if (round > 1 || retry.firstOwned) await this.api.deleteDatasetsNamed(datasetNameFor(this.chain, round));
        }
      }
    }
    // A log collection that finished despite a cancel request still leaves the request to honour.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure(CANCELLATION_REQUESTED);
    this.enterPhase('completed');
    const { datasetId, jobId, itemCount, timings, polls, runs } = this.state;
    if (retry) {
      const [first] = retry.rounds;
      const { filePath: failedFile, reasonsFilePath: reasonsFile, items: failed } = retry.failed;
      return {
        outcome: 'completed',
        datasetId: first.datasetId,
        jobId: first.jobId,
        itemCount: first.itemsIn,
        job: retry.firstJob,
        logs: retry.firstLogs,
        receiver,
        timings,
        polls,
        runs,
        rounds: retry.rounds,
        items: {
          delivered: retry.rounds.reduce((sum, round) => sum + round.delivered, 0),
          failed,
          ...(failed > 0 ? { failedFile, reasonsFile } : {}),
        },
      };
    }
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

  /** Phases 1-3; returns the number of items in the dataset. A continued run resumes the dataset wait. */
  private async prepareDataset(): Promise<number> {
    if (this.state.datasetId === undefined) {
      const source = this.input.dataset!;
      this.enterPhase('validating');
      if ('datasetId' in source) {
        const dataset = await this.api.getDataset(source.datasetId);
        if (datasetState(dataset.overview) !== 'ready') {
          throw ApplicationFailure.nonRetryable(
            `dataset ${source.datasetId} is ${dataset.overview}, not Uploaded: ${dataset.message}`,
            FailureType.DatasetNotReady,
          );
        }
        this.state.datasetId = source.datasetId;
        this.state.itemCount = dataset.itemCount;
        return dataset.itemCount;
      }
      const summary = await this.streaming.validateSource(source, { allowEmpty: this.input.allowEmptySource });
      if (summary.itemCount === 0) return 0;

      this.enterPhase('uploading');
      this.state.ownsDataset = true;
      const { datasetId } = await this.creating.uploadDataset({
        name: datasetNameFor(this.chain),
        source,
        expected: summary,
      });
      this.state.datasetId = datasetId;
      this.state.datasetUploadedAt = Date.now();
    }
    if (this.state.itemCount === undefined) await this.waitForDataset(this.state.datasetId);
    return this.state.itemCount!;
  }

  private async waitForDataset(datasetId: string): Promise<void> {
    this.enterPhase('waiting-for-dataset');
    this.state.datasetUploadedAt ??= Date.now();
    const uploadedAt = this.state.datasetUploadedAt;
    const readyMs = this.input.limits?.datasetReadyMs ?? DEFAULT_DATASET_READY_MS;
    for (;;) {
      const dataset = await this.api.getDataset(datasetId);
      const readiness = datasetState(dataset.overview);
      if (readiness === 'ready') {
        this.state.itemCount = dataset.itemCount;
        return;
      }
      if (readiness === 'failed') {
        throw ApplicationFailure.nonRetryable(
          `dataset ${datasetId} ended ${dataset.overview}: ${dataset.message}`,
          FailureType.DatasetFailed,
        );
      }
      const waitedMs = Date.now() - uploadedAt;
      // The hosted API may take a moment to notice an upload; this long means the bytes never landed.
      if (dataset.overview === 'Waiting' && waitedMs > UPLOAD_NOT_SEEN_MS) {
        throw ApplicationFailure.nonRetryable(
          `dataset ${datasetId} is still Waiting ${UPLOAD_NOT_SEEN_MS / 60_000} min after its upload: the upload did not land`,
          FailureType.DatasetUploadLost,
        );
      }
      if (waitedMs > readyMs) {
        throw ApplicationFailure.nonRetryable(
          `dataset ${datasetId} is still ${dataset.overview} ${formatDuration(waitedMs)} after its upload ` +
            `(limits.datasetReadyMs is ${formatDuration(readyMs)})`,
          FailureType.DatasetFailed,
        );
      }
      const lookAt = Date.now() + datasetPollDelayMs(waitedMs);
      if (this.historyIsLong()) {
        this.state.nextPollAt = lookAt;
        await continueAsNew<typeof batchPrediction>(this.input, this.state);
      }
      await this.sleepUntil(lookAt, `waiting for dataset ${datasetId}: ${dataset.overview}`);
    }
  }

  private finishEmpty(): BatchPredictionResult {
    if (!this.input.allowEmptySource) {
      throw ApplicationFailure.nonRetryable('the dataset source has no items', FailureType.EmptySource);
    }
    this.enterPhase('completed');
    const { timings, polls, runs } = this.state;
    return { outcome: 'nothing-to-predict', itemCount: 0, timings, polls, runs };
  }

  /** The round in flight: undefined before any job ended with failed items (round 1's names have no suffix). */
  private get round(): number | undefined {
    return this.state.retry?.round;
  }

  /**
   * After a job ended: when it has failed items, streams them from its logs (an activity: they never pass
   * through the history) and, while rounds are left, starts the next round on those with a retried status:
   * a new dataset and a new job with the same deployment and webhooks. False when the run is done.
   */
  private async startNextRound(job: JobSnapshot, logs: LogsSummary | undefined): Promise<boolean> {
    if (isAdoptedJob(this.input.job)) return false;
    const failed = failedItems(job.items);
    if (!this.state.retry) {
      if (failed === 0 || !patched(RETRY_FAILED_ITEMS)) return false;
      this.state.retry = {
        round: 1,
        rounds: [],
        firstJob: job,
        firstLogs: logs,
        firstOwned: this.state.ownsDataset,
        failed: { bytes: 0, reasonsBytes: 0, items: 0 },
      };
    }
    const retry = this.state.retry;
    const plan = retryPlanOf(this.input.retryFailedItems);
    const { round } = retry;
    let next: RetryState['next'];
    if (failed > 0) {
      this.enterPhase('collecting-failed-items');
      const { fileName, reasonsFileName } = failedItemsFileNamesFor(this.chain);
      const collected = await this.streaming.collectFailedItems({
        jobId: this.state.jobId!,
        round,
        directory: this.input.logs?.directory,
        failed: { fileName, reasonsFileName, bytes: retry.failed.bytes, reasonsBytes: retry.failed.reasonsBytes },
        retry:
          round <= plan.maxRounds
            ? { statuses: plan.statuses, fileName: roundItemsFileNameFor(this.chain, round + 1) }
            : undefined,
      });
      retry.failed = {
        filePath: collected.failed.filePath,
        reasonsFilePath: collected.failed.reasonsFilePath,
        bytes: collected.failed.bytes,
        reasonsBytes: collected.failed.reasonsBytes,
        items: retry.failed.items + collected.failed.added,
      };
      next = collected.retry;
    }
    retry.rounds.push({
      round,
      jobId: this.state.jobId!,
      datasetId: this.state.datasetId,
      itemsIn: this.state.itemCount ?? 0,
      delivered: job.items.delivered,
      failed: failedByStage(job.items),
      retried: next?.itemCount ?? 0,
    });
    if (!next) return false;
    // The next round starts from nothing but its dataset file.
    retry.round = round + 1;
    retry.next = next;
    Object.assign(this.state, {
      datasetId: undefined,
      ownsDataset: false,
      itemCount: undefined,
      jobId: undefined,
      job: undefined,
      jobRunningSince: undefined,
      jobWindow: undefined,
      datasetUploadedAt: undefined,
      pollMemory: undefined,
      nextPollAt: undefined,
      lastError: undefined,
    });
    if (plan.delayMs > 0) {
      await this.sleepUntil(Date.now() + plan.delayMs, `${next.itemCount} failed items: round ${retry.round}`);
    }
    await this.prepareRoundDataset(retry);
    await this.createJob(this.jobToCreate!);
    return true;
  }

  /** A retry round's dataset: its file uploaded under the round's name, then the wait until it is Uploaded. */
  private async prepareRoundDataset(retry: RetryState): Promise<void> {
    if (this.state.datasetId === undefined) {
      const { filePath, itemCount, sizeBytes, crc32c } = retry.next!;
      this.enterPhase('uploading');
      this.state.ownsDataset = true;
      const { datasetId } = await this.creating.uploadDataset({
        name: datasetNameFor(this.chain, retry.round),
        source: { ndjsonPath: filePath },
        expected: { itemCount, sizeBytes, crc32c },
      });
      this.state.datasetId = datasetId;
      this.state.datasetUploadedAt = Date.now();
    }
    if (this.state.itemCount === undefined) await this.waitForDataset(this.state.datasetId);
  }

  /** A job created elsewhere: only its dataset's size and its time window are needed to wait for it. */
  private async adoptJob(jobId: string): Promise<void> {
    this.enterPhase('creating-job');
    const adopted = await this.api.describeJob(jobId);
    this.state.jobId = jobId;
    this.state.datasetId = adopted.datasetId;
    this.state.itemCount = adopted.itemCount;
    this.state.jobWindow = { startAtTime: adopted.startAtTime, stopAtTime: adopted.stopAtTime };
    // Its counters grew from then: the estimate of the time left counts from there, and the first look is now.
    this.state.jobRunningSince = Math.max(adopted.createdAt, adopted.startAtTime ?? 0);
    this.state.pollMemory = { polls: 0, stalledPolls: 0 };
  }

  private async createJob(job: JobInput): Promise<void> {
    this.enterPhase('creating-job');
    const { receiverUrl } = this.input;
    const itemCount = this.state.itemCount ?? 0;
    const { jobId } = await this.creating.createJob({
      name: jobNameFor(this.chain, job.name, this.round),
      datasetId: this.state.datasetId!,
      job,
      watch: receiverUrl ? { receiverUrl, workflowId: this.chain.workflowId, itemCount } : undefined,
    });
    this.state.jobId = jobId;
    this.state.jobWindow = jobWindowOf(job);
  }

  private async waitForJob(): Promise<JobSnapshot> {
    this.enterPhase('waiting-for-job');
    const jobId = this.state.jobId!;
    const itemCount = this.state.itemCount ?? 0;
    // A run from before jobWindow existed still has its input's window.
    const toCreate = this.jobToCreate;
    const { startAtTime, stopAtTime } = this.state.jobWindow ?? (toCreate ? jobWindowOf(toCreate) : {});
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
        if (job.overview === JOB_FAILED) {
          throw ApplicationFailure.nonRetryable(
            `job ${jobId} failed: ${job.reason || job.message}`,
            FailureType.JobFailed,
          );
        }
        if (jobIsDone(job, itemCount)) return job;
        this.reportToParent(job);
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
      if (this.historyIsLong()) {
        await continueAsNew<typeof batchPrediction>(this.input, this.state);
      }
    }
  }

  /**
   * A shard's run tells its parent its job's counters (the parent's `progress` sums them) when they moved, at
   * most every SHARD_REPORT_MS: each report is an event in both histories. Runs that are no shard send nothing.
   */
  stopReports(): void {
    this.reportsStopped = true;
  }

  private reportToParent(job: JobSnapshot): void {
    const parent = workflowInfo().parent;
    if (this.input.shardIndex === undefined || !parent || this.reportsStopped) return;
    const accounted = itemsAccountedFor(job.items);
    const now = Date.now();
    if (accounted === this.reportedAccounted) return;
    if (this.lastReportAt !== undefined && now - this.lastReportAt < SHARD_REPORT_MS) return;
    this.lastReportAt = now;
    this.reportedAccounted = accounted;
    getExternalWorkflowHandle(parent.workflowId)
      .signal(shardProgressSignal, { index: this.input.shardIndex, items: job.items })
      // The parent's sum is only a display: a lost report is made good by the next one or the shard's result.
      .catch((err) => log.warn('could not report progress to the parent run', { error: String(err) }));
  }

  /**
   * One look at the job. An API that cannot be reached or answers an error does not fail the run while its
   * job may be running: the error is shown (progress, Web UI details) and the wait goes on. Only a job that
   * no longer exists ends it.
   */
  private async lookAtJob(jobId: string): Promise<JobSnapshot | undefined> {
    try {
      const job = await this.look.getJob(jobId);
      this.state.polls += 1;
      this.state.job = job;
      this.state.lastError = undefined;
      return job;
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      if (cause?.type === FailureType.ApiNotFound) {
        throw ApplicationFailure.nonRetryable(
          `job ${jobId} no longer exists: ${cause.message}`,
          FailureType.JobNotFound,
        );
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

  /**
   * What a person sees on the run's page in the Web UI ("current details"), written at each phase change and
   * before each wait. Not a command: adding or changing it does not touch replay.
   */
  private showDetails(): void {
    const { phase, datasetId, jobId, job, itemCount, nextPollAt, lastError, polls } = this.state;
    const lines = [`**phase**: ${phase}`];
    if (datasetId) lines.push(`**dataset**: ${datasetId}${itemCount !== undefined ? ` (${itemCount} items)` : ''}`);
    if (jobId) lines.push(`**job**: ${jobId}${job ? ` (${job.overview})` : ''}`);
    if (job && itemCount) {
      const { items } = job;
      lines.push(
        `**progress**: ${itemsAccountedFor(items)} of ${itemCount} items (${percentOf(items, itemCount)} %): ` +
          `gathered ${items.gathered}, preprocessed ${items.preprocessed}, predicted ${items.predicted}, ` +
          `delivered ${items.delivered}; failed ${failedItems(items)}`,
      );
    }
    const { retry } = this.state;
    if (retry) {
      const ended = retry.rounds.map(
        (round) =>
          `round ${round.round}: ${round.delivered} of ${round.itemsIn} delivered, ${round.retried} sent again`,
      );
      lines.push(`**round**: ${retry.round}${ended.length ? ` (${ended.join('; ')})` : ''}`);
    }
    if (nextPollAt !== undefined) {
      lines.push(
        `**next look**: ${isoTime(nextPollAt)} (in ${formatDelay(nextPollAt - Date.now())}; ${polls} looks so far)`,
      );
    }
    if (lastError) {
      lines.push(
        `**last API error** (${lastError.count} in a row since ${isoTime(lastError.since)}, waited out): ${lastError.message}`,
      );
    }
    if (phase === 'cancelled' || this.cleanup.dataset === 'deleted') {
      const why = this.cleanup.reason ? ` (${this.cleanup.reason})` : '';
      lines.push(`**cleaned up**${why}: ${describeCleanup(this.cleanup)}`);
    }
    setCurrentDetails(lines.join('\n\n'));
  }

  private waitSummary(): string {
    const { job, itemCount } = this.state;
    if (!job || !itemCount) return 'waiting for job';
    return `waiting for job: ${percentOf(job.items, itemCount)} %`;
  }

  private historyIsLong(): boolean {
    const info = workflowInfo();
    const limit = this.input.polling?.maxHistoryEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
  }

  private async collectLogs(): Promise<LogsSummary> {
    this.enterPhase('collecting-logs');
    return this.streaming.collectLogs({
      jobId: this.state.jobId!,
      fileName: logFileNameFor(this.chain, this.round),
      directory: this.input.logs?.directory,
      minLevel: this.input.logs?.minLevel,
    });
  }

  private async checkReceiver(receiverUrl: string, job: JobSnapshot): Promise<ReceiverCheck> {
    this.enterPhase('checking-receiver');
    const { retry } = this.state;
    // With retry rounds, each round's job delivered its own items: the receiver holds them by job.
    const jobs = retry ? retry.rounds : [{ jobId: this.state.jobId!, delivered: job.items.delivered }];
    let predictions = 0;
    for (const { jobId } of jobs)
      predictions += (await this.api.countReceiverPredictions({ receiverUrl, jobId })).predictions;
    const delivered = jobs.reduce((sum, round) => sum + round.delivered, 0);
    return { predictions, delivered, matchesDelivered: predictions === delivered };
  }

  /**
   * The one cleanup path for the `cancel` signal and a Temporal cancellation request. Runs non-cancellable:
   * stop the Datature job if there is one (and collect its logs so far), otherwise apply the dataset policy.
   */
  async cleanUpAfterCancel(reason: string): Promise<void> {
    this.cleanup.reason = reason;
    // The look planned before the cancel will not happen (progress and Web UI details must not promise it).
    this.state.nextPollAt = undefined;
    const interruptedPhase = this.state.phase;
    this.enterPhase('cancelling');
    let jobId = this.state.jobId;
    const toCreate = this.jobToCreate;
    if (!jobId && interruptedPhase === 'creating-job' && toCreate) {
      jobId = (await this.api.findJobByName(jobNameFor(this.chain, toCreate.name, this.round)))?.jobId;
    }
    if (jobId) {
      this.state.jobId = jobId;
      this.state.job = await this.stopJob(jobId);
      const deadline = Date.now() + STOP_WAIT_MS;
      // A cancelled job only finishes its in-flight items: look again soon, then less often.
      for (let delay = 1_000; !isStopped(this.state.job) && Date.now() < deadline; delay = Math.min(delay * 2, 5_000)) {
        await sleep(delay);
        this.state.job = await this.api.getJob(jobId);
      }
      this.cleanup = {
        ...this.cleanup,
        jobId,
        jobOverview: this.state.job.overview,
        jobCancelledAt: this.state.job.cancelledAt,
      };
      if (this.input.logs?.collect) {
        const logs = await this.collectLogs();
        this.cleanup = { ...this.cleanup, logsFile: logs.filePath, logEntries: logs.entries };
      }
    } else if (this.state.ownsDataset && (this.input.cleanup?.deleteDatasetOnCancel ?? true)) {
      // Only a dataset this run uploaded (set before the upload starts); a given {datasetId} is never deleted.
      await this.api.deleteDatasetsNamed(datasetNameFor(this.chain, this.round));
      this.cleanup = { ...this.cleanup, dataset: 'deleted' };
    }
    this.cleanup.datasetId = this.state.datasetId;
    this.enterPhase('cancelled');
  }

  /**
   * The failure the run ends with: the root cause's message and catalogue type, whichever activity or check
   * it came from (not "Activity task failed"). A job that may still be running is named, with the way back.
   */
  explain(err: unknown): unknown {
    const root = rootApplicationFailure(err);
    let message: string;
    let type: string;
    if (root) {
      message = root.message;
      type = root.type ?? FailureType.ApiUnavailable;
    } else if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
      message = `${err.activityType} did not succeed within its time budget (limits.apiOutageMs): ${err.cause.message}`;
      type = FailureType.ApiUnavailable;
    } else {
      return err;
    }
    const { jobId, job } = this.state;
    if (jobId && !(job && isStopped(job))) {
      message += ` (job ${jobId} may still be running: \`datature-batch run --job ${jobId}\` watches it again)`;
    }
    return ApplicationFailure.create({
      message,
      type,
      nonRetryable: true,
      details: root?.details ?? undefined,
      cause: err as Error,
    });
  }

  /** A run that failed before its job existed leaves no dataset behind (unless the policy keeps it). */
  async cleanUpAfterFailure(): Promise<void> {
    if (this.state.jobId || !this.state.ownsDataset || this.input.cleanup?.deleteDatasetOnFailure === false) return;
    try {
      await this.api.deleteDatasetsNamed(datasetNameFor(this.chain, this.round));
      this.cleanup = { ...this.cleanup, dataset: 'deleted', datasetId: this.state.datasetId };
      this.showDetails();
    } catch (err) {
      // The run's own failure is what the caller needs to see.
      log.warn('could not delete the dataset of a failed run', { error: String(err) });
    }
  }

  /** A job this run already saw end is not cancelled again (the activity also answers an ended job's state). */
  private async stopJob(jobId: string): Promise<JobSnapshot> {
    if (this.state.job && isStopped(this.state.job)) return this.state.job;
    return this.api.cancelJob(jobId);
  }

  private enterPhase(phase: BatchPhase): void {
    const now = isoTime(Date.now());
    const previous = this.state.timings[this.state.phase];
    if (previous && previous.endedAt === undefined && this.state.phase !== phase) previous.endedAt = now;
    this.state.phase = phase;
    this.state.timings[phase] ??= { startedAt: now };
    if (phase === 'completed' || phase === 'cancelled') this.state.timings[phase]!.endedAt = now;
    this.showDetails();
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

/** The input checked and normalised with the client's schema: every wrong field named, failing the run at once. */
function checkInput(input: unknown): BatchPredictionInput {
  try {
    return parseBatchPredictionInput(input);
  } catch (err) {
    if (!(err instanceof BatchInputError)) throw err;
    throw ApplicationFailure.create({
      message: err.message,
      type: FailureType.InvalidInput,
      nonRetryable: true,
      details: [{ issues: err.issues }],
    });
  }
}

/** The job's window as epoch ms (the input holds ISO-8601; inputs recorded before that, epoch ms). */
function jobWindowOf(job: JobInput): { startAtTime?: number; stopAtTime?: number } {
  return {
    startAtTime: job.startAtTime === undefined ? undefined : epochMsOf(job.startAtTime),
    stopAtTime: job.stopAtTime === undefined ? undefined : epochMsOf(job.stopAtTime),
  };
}

/** Timings carried by a run recorded before they were ISO-8601 (epoch ms) read the same as new ones. */
function isoTimings(timings: PhaseTimings): PhaseTimings {
  const out: PhaseTimings = {};
  for (const [phase, timing] of Object.entries(timings) as [BatchPhase, { startedAt: string; endedAt?: string }][]) {
    out[phase] = {
      startedAt: isoTime(timing.startedAt),
      ...(timing.endedAt !== undefined ? { endedAt: isoTime(timing.endedAt) } : {}),
    };
  }
  return out;
}

function percentOf(items: JobSnapshot['items'], itemCount: number): number {
  return Math.floor((100 * itemsAccountedFor(items)) / itemCount);
}

function formatDuration(ms: number): string {
  return ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`;
}

function isStopped(job: JobSnapshot): boolean {
  return jobHasEnded(job.overview);
}

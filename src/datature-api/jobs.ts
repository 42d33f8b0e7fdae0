import type { Datasets } from './datasets';
import { BadRequestError, DatatureValidationError, DatatureWaitError, NotFoundError } from './errors';
import { NewestFirstLogCursor } from './log-cursor';
import {
  DeleteResponseSchema,
  type Job,
  type JobLogEntry,
  type JobLogs,
  JobLogsSchema,
  JobSchema,
  type Page,
  pageSchema,
} from './models';
import { type PageParams, paginate } from './pagination';
import { pollUntil, type WaitOptions } from './polling';
import { checkId, checkIntInRange, checkName, checkSchedule } from './request-validation';
import { ApiResource, seg } from './resource';
import { JOB_FAILED, jobIsDone } from './status-rules';
import type { RequestOptions, Transport } from './transport';

/** The ephemeral deployment built from `artifactId` (the SDK's DeploymentMetadata, wire casing). */
export interface DeploymentTemplate {
  name?: string;
  instanceId?: string;
  replicas?: number;
  region?: string;
  versionTag?: string;
  resources?: Record<string, number>;
  options?: Record<string, unknown>;
}

export interface JobCreateParams {
  name: string;
  datasetId: string;
  webhookIds: string[];
  /** Exactly one of deploymentId (an existing deployment) and artifactId (a temporary one for this job). */
  deploymentId?: string;
  artifactId?: string;
  deploymentTemplate?: DeploymentTemplate;
  /** Epoch ms; not in the past (1 minute grace). */
  startAtTime?: number;
  /** Epoch ms, after the start; the API's default cutoff is about 3 days. */
  stopAtTime?: number;
}

export interface LogsFilter {
  /** Epoch ms. */
  beforeTime?: number;
  afterTime?: number;
  /** e.g. `Info` or `Error`. */
  minLevel?: string;
  /** Entries per call, 1-1000. */
  maxEntries?: number;
  /**
   * Emulator extension, not a documented parameter of the hosted API: with `beforeTime = T + 1`, only the
   * entries of millisecond T that come after this entry id in the server's order (and older ones). `allLogs`
   * sends it only when a whole page shares one millisecond, the one case the documented parameters cannot page.
   */
  beforeId?: string;
}

export interface AllLogsFilter extends Omit<LogsFilter, 'beforeId'> {
  /** Caps the total number of entries yielded across all pages. */
  maxEntries?: number;
  /**
   * Called for each millisecond of which more than a page of entries could not all be read: the server
   * ignored or refused `beforeId` (the hosted API documents no way to page inside one millisecond).
   */
  onPartialMillisecond?: (createTime: number) => void;
}

export const MAX_LOG_ENTRIES_PER_CALL = 1000;
const JobPageSchema = pageSchema(JobSchema);

export class Jobs extends ApiResource {
  constructor(
    transport: Transport,
    projectId: string,
    private readonly datasets: Datasets,
  ) {
    super(transport, projectId);
  }

  create(params: JobCreateParams, options?: RequestOptions): Promise<Job> {
    checkName('name', params.name);
    checkId('datasetId', params.datasetId);
    if (!Array.isArray(params.webhookIds) || params.webhookIds.length === 0) {
      throw new DatatureValidationError('webhookIds', 'at least one webhook id is required');
    }
    for (const [i, id] of params.webhookIds.entries()) checkId(`webhookIds[${i}]`, id);
    if (Boolean(params.deploymentId) === Boolean(params.artifactId)) {
      throw new DatatureValidationError('deploymentId', 'give exactly one of deploymentId and artifactId');
    }
    if (params.deploymentTemplate && !params.artifactId) {
      throw new DatatureValidationError('deploymentTemplate', 'only applies with artifactId');
    }
    checkSchedule(params.startAtTime, params.stopAtTime);
    const deployment = params.deploymentId
      ? { kind: 'ExistingDeployment', deploymentId: params.deploymentId }
      : { kind: 'NewEphemeralDeployment', template: { artifactId: params.artifactId, ...params.deploymentTemplate } };
    const json = {
      name: params.name,
      spec: {
        ...(params.startAtTime !== undefined ? { startAtTime: params.startAtTime } : {}),
        ...(params.stopAtTime !== undefined ? { stopAtTime: params.stopAtTime } : {}),
        datasetId: params.datasetId,
        deployment,
        resultDelivery: { destinations: params.webhookIds.map((webhookId) => ({ kind: 'Webhook', webhookId })) },
      },
    };
    return this.transport.call(
      { method: 'POST', path: this.path('jobs'), json, schema: JobSchema, idempotent: false },
      options,
    );
  }

  list(params: { limit?: number } = {}, options?: RequestOptions): AsyncGenerator<Job> {
    return paginate((page) => this.listPage({ page, limit: params.limit }, options));
  }

  listPage(params: PageParams = {}, options?: RequestOptions): Promise<Page<Job>> {
    return this.transport.call(
      { method: 'GET', path: this.path('jobs'), query: { ...params }, schema: JobPageSchema, idempotent: true },
      options,
    );
  }

  get(jobId: string, options?: RequestOptions): Promise<Job> {
    checkId('jobId', jobId);
    return this.transport.call(
      { method: 'GET', path: this.path('jobs', seg(jobId)), schema: JobSchema, idempotent: true },
      options,
    );
  }

  /**
   * Cancel = move the cutoff to now, as the official SDK does. Retrying it is safe: a repeat only moves
   * the cutoff by the retry delay on a job that is already stopping.
   */
  cancel(jobId: string, options?: RequestOptions): Promise<Job> {
    checkId('jobId', jobId);
    return this.transport.call(
      {
        method: 'PATCH',
        path: this.path('jobs', seg(jobId)),
        json: { spec: { stopAtTime: Date.now() } },
        schema: JobSchema,
        idempotent: true,
      },
      options,
    );
  }

  delete(jobId: string, options?: RequestOptions) {
    checkId('jobId', jobId);
    return this.transport.call(
      { method: 'DELETE', path: this.path('jobs', seg(jobId)), schema: DeleteResponseSchema, idempotent: true },
      options,
    );
  }

  /**
   * Polls until every dataset item is accounted for (`jobIsDone` in status-rules.ts: Delivered + FailedDeliver, the SDK's
   * test) or the overview is `Reached` (which the SDK does not check: a job cut off by its stopAtTime or a
   * cancel ends with items missing); `Failed` throws DatatureWaitError with the job's reason.
   */
  async waitUntilDone(jobId: string, options: WaitOptions = {}): Promise<Job> {
    let itemCount: number | undefined;
    return pollUntil(
      `job ${jobId}`,
      async () => {
        const job = await this.get(jobId, { signal: options.signal });
        const { overview, reason, message } = job.status;
        if (overview === JOB_FAILED) {
          throw new DatatureWaitError(`Error processing job ${jobId}: ${reason || message || overview}`);
        }
        if (jobIsDone(job.status, undefined)) return job;
        if (itemCount === undefined && job.spec.datasetId) {
          itemCount = await this.datasets.get(job.spec.datasetId, { signal: options.signal }).then(
            (dataset) => dataset.status.itemCount,
            // A deleted dataset cannot say how many items there are: only `Reached` can end the wait then.
            (err: unknown) => {
              if (err instanceof NotFoundError) return 0;
              throw err;
            },
          );
        }
        return jobIsDone(job.status, itemCount) ? job : undefined;
      },
      { ...options, intervalMs: options.intervalMs ?? 8_000 },
    );
  }

  /** One page of log entries, newest first, at most 1000. */
  logs(jobId: string, filter: LogsFilter = {}, options?: RequestOptions): Promise<JobLogs> {
    checkId('jobId', jobId);
    if (filter.maxEntries !== undefined) checkIntInRange('maxEntries', filter.maxEntries, 1, MAX_LOG_ENTRIES_PER_CALL);
    return this.transport.call(
      {
        method: 'GET',
        path: this.path('jobs', seg(jobId), 'logs'),
        query: { ...filter },
        schema: JobLogsSchema,
        idempotent: true,
      },
      options,
    );
  }

  /**
   * Every entry, newest first, each once. After a full page whose oldest entry is at millisecond T, the next
   * page asks `beforeTime = T + 1`: the rest of T (the entries of T already yielded come back and are skipped
   * by id) and then older ones, whether the server's `beforeTime` is exclusive or inclusive. Paging by an
   * exclusive `beforeTime = T`, as the official SDK does, would lose the unread entries of T whenever items
   * finish in the same millisecond across a page boundary. A full page all at one millisecond gives no way
   * forward with the documented parameters: the emulator's `beforeId` continues inside T; a server that
   * ignores or refuses it has its remaining entries of T reported to `onPartialMillisecond` and skipped.
   * Only the ids of the current boundary millisecond are remembered.
   */
  async *allLogs(jobId: string, filter: AllLogsFilter = {}, options?: RequestOptions): AsyncGenerator<JobLogEntry> {
    const { maxEntries: totalCap, onPartialMillisecond, ...pageFilter } = filter;
    if (totalCap !== undefined) checkIntInRange('maxEntries', totalCap, 1, Number.MAX_SAFE_INTEGER);
    // Constant across pages: the "short page = last page" rule needs one page size.
    const pageSize = Math.min(MAX_LOG_ENTRIES_PER_CALL, totalCap ?? MAX_LOG_ENTRIES_PER_CALL);
    let yielded = 0;
    let beforeTime = pageFilter.beforeTime;
    let beforeId: string | undefined;
    const cursor = new NewestFirstLogCursor();
    for (;;) {
      let entries: JobLogEntry[];
      let refused = false;
      try {
        ({ entries } = await this.logs(jobId, { ...pageFilter, beforeTime, beforeId, maxEntries: pageSize }, options));
      } catch (err) {
        if (!(beforeId && err instanceof BadRequestError)) throw err;
        entries = [];
        refused = true;
      }
      let fresh = 0;
      for (const entry of entries) {
        if (!cursor.admit(entry)) continue;
        fresh++;
        yield entry;
        if (++yielded === totalCap) return;
      }
      if (refused || (entries.length > 0 && fresh === 0)) {
        // Nothing new: stop rather than loop, unless the cursor was ignored, then go on below this millisecond.
        if (!beforeId || cursor.oldestTime === undefined) return;
        onPartialMillisecond?.(cursor.oldestTime);
        beforeTime = cursor.oldestTime;
        beforeId = undefined;
        continue;
      }
      if (entries.length < pageSize || cursor.resumeBeforeTime === undefined) return;
      const oldest = entries[entries.length - 1];
      beforeTime = cursor.resumeBeforeTime;
      beforeId = entries[0].createTime === oldest.createTime ? oldest.id : undefined;
    }
  }
}

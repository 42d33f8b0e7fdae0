// The activity contract the workflow is written against, owned by the workflow room; src/activities implements it
// (type-only: the workflow bundle imports nothing here).
import type { DatasetSourceInput, JobInput, JobSnapshot, LogsSummary } from './definitions';
import type { CollectFailedItemsRequest, FailedItemsCollected } from './failed-items';

export interface SourceSummary {
  itemCount: number;
  sizeBytes: number;
  crc32c: string;
  /** With `shardStartsEvery`: the byte offset of each shard's first line after the first shard's. */
  shardStarts?: number[];
}

export interface ValidateSourceOptions {
  allowEmpty?: boolean;
  /** A sharded run's shard size: note where every shard starts in the source's bytes (`shardStarts`). */
  shardStartsEvery?: number;
}

export interface AdoptedJob {
  /** Epoch ms: when the job was created (its counters have been growing since then, or since startAtTime). */
  createdAt: number;
  datasetId?: string;
  itemCount: number;
  startAtTime?: number;
  stopAtTime?: number;
}

export interface DatasetSnapshot {
  overview: string;
  message: string;
  itemCount: number;
}

export interface UploadDatasetRequest {
  name: string;
  source: DatasetSourceInput;
  expected: SourceSummary;
}

/** What the run tells its receiver when the job exists, so the receiver can signal `checkNow` at the end. */
export interface ReceiverWatch {
  receiverUrl: string;
  workflowId: string;
  itemCount: number;
}

export interface CreateJobRequest {
  name: string;
  datasetId: string;
  job: JobInput;
  watch?: ReceiverWatch;
}

export interface CollectLogsRequest {
  jobId: string;
  fileName: string;
  directory?: string;
  minLevel?: string;
}

export interface WorkflowCancellationRequest {
  workflowId: string;
  reason?: string;
}

export interface BatchActivities {
  /** Reads the whole source once (NDJSON check, size, CRC32C); an existing dataset must be `Uploaded`. */
  /** With `allowEmpty`, a source with no item describes `itemCount: 0` instead of failing. */
  validateSource(source: DatasetSourceInput, options?: ValidateSourceOptions): Promise<SourceSummary>;
  /** Finds or creates the dataset named `name` and uploads the source to it; never leaves two live datasets. */
  uploadDataset(request: UploadDatasetRequest): Promise<{ datasetId: string }>;
  getDataset(datasetId: string): Promise<DatasetSnapshot>;
  /** Deletes every live dataset of that name (the cleanup knows the name even when an upload was cut short). */
  deleteDatasetsNamed(name: string): Promise<{ deleted: number }>;
  /** Finds the job named `name` or creates it; with `watch`, then tells the run's receiver about it. */
  createJob(request: CreateJobRequest): Promise<{ jobId: string }>;
  findJobByName(name: string): Promise<{ jobId: string } | null>;
  /** An existing job to adopt: its dataset, that dataset's item count (0 if gone), its time window. */
  describeJob(jobId: string): Promise<AdoptedJob>;
  getJob(jobId: string): Promise<JobSnapshot>;
  cancelJob(jobId: string): Promise<JobSnapshot>;
  /** Streams every log entry of the job to `<directory>/<fileName>`, resuming from its heartbeat cursor. */
  collectLogs(request: CollectLogsRequest): Promise<LogsSummary>;
  /** Streams the job's failed items from its logs into the run's failed-items file or the next round's dataset file. */
  collectFailedItems(request: CollectFailedItemsRequest): Promise<FailedItemsCollected>;
  countReceiverPredictions(request: { receiverUrl: string; jobId: string }): Promise<{ predictions: number }>;
  /** Asks the Temporal server to cancel this workflow, so a `cancel` signal ends the run as Canceled. */
  requestWorkflowCancellation(request: WorkflowCancellationRequest): Promise<void>;
}

export { DatatureClient, type DatatureClientOptions, USER_AGENT } from './client';
export { Crc32c, crc32cBase64 } from './crc32c';
export {
  type ByteRange,
  countingBytes,
  type DatasetSourceInput,
  type NdjsonSource,
  sourceOpener,
} from './dataset-source';
export {
  type DatasetCreateParams,
  type DatasetListParams,
  type DatasetRecordParams,
  Datasets,
  NDJSON_SOURCE_KIND,
  type UploadOptions,
  uploadHeaders,
} from './datasets';
export { DEFAULT_API_BASE_URL } from './defaults';
export * from './errors';
export { type ItemRange, itemRangeOf, noteShardStarts } from './item-range';
export {
  type AllLogsFilter,
  type DeploymentTemplate,
  type JobCreateParams,
  Jobs,
  type LogsFilter,
  MAX_LOG_ENTRIES_PER_CALL,
} from './jobs';
export { type LogCursorState, NewestFirstLogCursor } from './log-cursor';
export * from './models';
export { MAX_LINE_BYTES, type NdjsonDescription, validateNdjson } from './ndjson';
export type { PageParams } from './pagination';
export type { WaitOptions } from './polling';
export { redactSignedUrl } from './signed-url';
export {
  DEFAULT_RETRY_STATUSES,
  datasetState,
  FAILED_ITEM_STATUSES,
  type FailedByStage,
  type FailedItemStatus,
  failedByStage,
  failedItems,
  ITEM_STATUSES,
  type ItemStatus,
  isFailedItemEntry,
  itemsAccountedFor,
  JOB_ITEM_COUNTER_NAMES,
  JOB_ITEM_COUNTER_WIRE_NAMES,
  JOB_ITEM_COUNTERS,
  type JobItemCounterName,
  type JobItemCounters,
  type JobItemCounterWireName,
  jobHasEnded,
  jobIsDone,
  pickJobItemCounters,
  zeroJobItemCounters,
} from './status-rules';
export type { RequestOptions } from './transport';
export { generateWebhookSecret } from './webhook-secret';
export {
  DEFAULT_WEBHOOK_RETRIES,
  type WebhookCreateParams,
  type WebhookRetriesInput,
  Webhooks,
  type WebhookUpdateParams,
} from './webhooks';

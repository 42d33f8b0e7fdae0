// The catalogue of failure types a run can end with: the `type` of the ApplicationFailure every caller sees
// (the CLI, the Web UI, a Python or Go client's `cause`), whatever activity or check it came from. Stable
// names: callers branch on them. Dependency-free, so the workflow sandbox and the activities share it.
// docs/pipeline.md ("Why a run failed") lists them with what to do about each. Every ApplicationFailure the
// workflow and the activities raise takes its type from here (test/workflows/failure-catalogue.test.ts).

export const FailureType = {
  /** The input is not a valid batchPrediction input; the message names every wrong field. */
  InvalidInput: 'InvalidInput',
  /** The source is not NDJSON of `{"kind":"Image","url":…}` items; the message gives the first lines. */
  InvalidNdjson: 'InvalidNdjson',
  /** The source has no items (and `allowEmptySource` was not set). */
  EmptySource: 'EmptySource',
  /** The file or URL cannot be read (missing, 4xx, or unreadable after retries). */
  SourceUnreadable: 'SourceUnreadable',
  /** A given `{datasetId}` is not `Uploaded`. */
  DatasetNotReady: 'DatasetNotReady',
  /** The dataset ended `FailedUpload` / `FailedProcessing`, or was not ready by the dataset deadline. */
  DatasetFailed: 'DatasetFailed',
  /** The dataset stayed `Waiting` long after its upload: the bytes never landed. */
  DatasetUploadLost: 'DatasetUploadLost',
  /** The job ended `Failed`. */
  JobFailed: 'JobFailed',
  /** The job the run waits for no longer exists (deleted elsewhere). */
  JobNotFound: 'JobNotFound',
  /** The API refused a request (4xx other than the ones below): the message has the status and the API's words. */
  ApiRejected: 'ApiRejected',
  /** 401/403: the worker's secret key or project is wrong. While a job runs this is waited out (rotate the key). */
  ApiUnauthorized: 'ApiUnauthorized',
  /** 404 from the API. */
  ApiNotFound: 'ApiNotFound',
  /** 5xx, 429, timeouts, unreachable: retried; a run fails with it only before its job exists, after its retry budget. */
  ApiUnavailable: 'ApiUnavailable',
  /** Shards of a sharded run failed for good (after their retries); the message names each with its root cause. */
  ShardsFailed: 'ShardsFailed',
  /** The results receiver did not answer its count. */
  ReceiverError: 'ReceiverError',
  /** The worker has no Temporal client to turn a cancel signal into a cancellation. */
  NoTemporalClient: 'NoTemporalClient',
  /** `logs.directory` points outside the worker's logs directory (a caller that skipped the input schema). */
  InvalidLogsDirectory: 'InvalidLogsDirectory',
  /** A dataset cannot be deleted yet (409: still uploading or processing): retried a few seconds later. */
  DatasetBusy: 'DatasetBusy',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

const KNOWN = new Set<string>(Object.values(FailureType));

export function isFailureType(type: string | null | undefined): type is FailureType {
  return type !== null && type !== undefined && KNOWN.has(type);
}

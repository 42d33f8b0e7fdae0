// The pipeline's Prometheus metric names, in a module without imports: the workflow bundle, the worker,
// the dashboard test and the docs all take them from here.

/** Runs started (first execution only, not continue-as-new). */
export const RUNS_STARTED = 'datature_batch_runs_started';
/** Runs ended, tag `outcome`: completed | nothing-to-predict | cancelled | failed. */
export const RUNS_ENDED = 'datature_batch_runs_ended';
/** Job items, tags `stage` (gather | process | predict | deliver) and `outcome` (ok | failed): the eight counters. */
export const ITEMS = 'datature_batch_items';
/** Seconds spent in each phase (workflow clock), tag `phase`. */
export const PHASE_DURATION = 'datature_batch_phase_duration_seconds';
/** Job status polls (getJob activity completions), tag `phase`. */
export const POLLS = 'datature_batch_polls';
/** Log entries written by completed log collections. */
export const LOG_ENTRIES = 'datature_batch_log_entries';
/** Datature API calls, tags `route` (e.g. `GET /projects/:id/batch/jobs/:id`) and `status` (HTTP status or `error`). */
export const API_REQUESTS = 'datature_batch_api_requests';
/** Datature API call latency in seconds (request start to last body byte), tag `route`. */
export const API_REQUEST_DURATION = 'datature_batch_api_request_duration_seconds';
/** Bytes of dataset uploads the signed URL accepted. */
export const BYTES_UPLOADED = 'datature_batch_bytes_uploaded';

/** Bucket boundaries of the histograms (seconds). */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [PHASE_DURATION]: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 3 * 24 * 3600],
  [API_REQUEST_DURATION]: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
};

/** The counters as a scrape shows them (the Prometheus exporter appends `_total`). */
export const PIPELINE_COUNTERS = [RUNS_STARTED, RUNS_ENDED, ITEMS, POLLS, LOG_ENTRIES, API_REQUESTS, BYTES_UPLOADED];
export const PIPELINE_HISTOGRAMS = [PHASE_DURATION, API_REQUEST_DURATION];

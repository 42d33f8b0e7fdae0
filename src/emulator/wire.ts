// Rows to the hosted API's JSON: camelCase, PascalCase item counters, every field the SDK's structs require.
import { jobLogsId } from './ids';
import { type Counters, type DatasetRow, JOB_RUNNING, type JobRow, type LogRow, type WebhookRow } from './store';

export function webhookJson(row: WebhookRow) {
  return {
    id: row.id,
    object: 'webhook',
    projectId: row.project_id,
    name: row.name,
    endpoint: row.endpoint,
    retries: { maxRetries: row.max_retries, maxBackoffMs: row.max_backoff_ms },
    createDate: row.create_date,
    updateDate: row.update_date,
  };
}

export function datasetJson(row: DatasetRow, uploadUrl: { url: string; headers: Record<string, string> }) {
  return {
    id: row.id,
    object: 'dataset',
    name: row.name,
    projectId: row.project_id,
    expiryTime: row.expiry_time,
    status: {
      overview: row.overview,
      message: row.message,
      updateTime: row.status_time,
      source: {
        kind: 'UploadedNewlineDelimitedJsonFile',
        uploadUrl: { method: 'PUT', url: uploadUrl.url, headers: uploadUrl.headers, expiresAtTime: row.upload_expires },
      },
      itemCount: row.item_count,
    },
    createDate: row.create_date,
    updateDate: row.update_date,
  };
}

/**
 * `runningOverview` replaces the internal state `Running` (a job whose items flow) on the wire, in both
 * `overview` and `message`: the hosted API's value for that phase is unknown (see `runningJobOverview`).
 */
export function jobJson(row: JobRow, counters: Counters, runningOverview: string) {
  const running = row.overview === JOB_RUNNING;
  return {
    id: row.id,
    object: 'batch_job',
    name: row.name,
    projectId: row.project_id,
    spec: {
      startAtTime: row.start_at,
      stopAtTime: row.stop_at,
      datasetId: row.dataset_id,
      deployment: JSON.parse(row.deployment),
      resultDelivery: { destinations: JSON.parse(row.destinations) },
    },
    status: {
      overview: running ? runningOverview : row.overview,
      message: running ? runningOverview : row.message,
      updateDate: row.status_date,
      items: counters,
      ...(row.reason ? { reason: row.reason } : {}),
      ...(row.cancelled_at !== null ? { cancelledAt: row.cancelled_at } : {}),
    },
    createDate: row.create_date,
    updateDate: row.update_date,
  };
}

export function jobLogsJson(job: JobRow, entries: LogRow[]) {
  return {
    id: jobLogsId(job.id),
    object: 'batch_job_log',
    projectId: job.project_id,
    entries: entries.map((entry) => ({
      kind: 'ItemPredicted',
      createTime: entry.create_time,
      id: entry.id,
      level: entry.level,
      item: entry.item,
      status: entry.status,
      timeMs: entry.time_ms,
      reason: entry.reason,
    })),
  };
}

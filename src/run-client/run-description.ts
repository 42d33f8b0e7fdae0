// What the Temporal Web UI shows of a run from its start (static summary and details) and the search attribute
// it is filterable by before its first workflow task. Used by startBatchPrediction and by schedules.
// No secrets: the worker holds the API key, and a dataset URL's query (a signature, perhaps) is masked.
import type { SearchAttributePair } from '@temporalio/common';
import { redactSignedUrl } from '../datature-api/signed-url';
import {
  BatchPhaseKey,
  type BatchPredictionInput,
  type DatasetSourceInput,
  initialPhase,
  isAdoptedJob,
} from '../workflows/definitions';

export interface RunDescription {
  /** One line: the list's and the run page's header. */
  staticSummary: string;
  /** Markdown: the run page's "Details". */
  staticDetails: string;
  typedSearchAttributes: SearchAttributePair[];
}

/** Where a run's items come from, safe to show (a URL's query masked). */
export function describeSource(source: DatasetSourceInput | undefined): string {
  if (!source) return 'the adopted job’s dataset';
  if ('ndjsonUrl' in source) return redactSignedUrl(source.ndjsonUrl);
  if ('ndjsonPath' in source) return source.ndjsonPath;
  if ('items' in source) return `${source.items.length} inline items`;
  return `dataset ${source.datasetId}`;
}

/** The model a run predicts with. */
export function describeModel(input: Pick<BatchPredictionInput, 'job'>): string {
  const { job } = input;
  if (isAdoptedJob(job)) return `job ${job.jobId}`;
  if (job.deploymentIds) return `deployments ${job.deploymentIds.join(', ')}`;
  return job.deploymentId ? `deployment ${job.deploymentId}` : `artifact ${job.artifactId} (ephemeral deployment)`;
}

/** The item count when it is known before the run reads its source (inline items). */
export function knownItemCount(input: Pick<BatchPredictionInput, 'dataset'>): number | undefined {
  return input.dataset && 'items' in input.dataset ? input.dataset.items.length : undefined;
}

/** Summary, details and start search attributes of a run with this (already parsed) input. */
export function describeRun(input: BatchPredictionInput, scheduleId?: string): RunDescription {
  const source = describeSource(input.dataset);
  const model = describeModel(input);
  const count = knownItemCount(input);
  const { job } = input;
  const staticSummary = isAdoptedJob(job)
    ? `batch prediction: watching ${model}`
    : `batch prediction: ${count !== undefined ? `${count} inline items` : source} → ${model}`;
  const rows: [string, string][] = [
    ['dataset', source],
    ['model', model],
    ['items', count !== undefined ? String(count) : 'counted when the source is read'],
  ];
  if (!isAdoptedJob(job)) {
    rows.push(['webhooks', job.webhookIds.join(', ')]);
    if (job.name) rows.push(['job name', job.name]);
    if (job.startAtTime) rows.push(['starts at', job.startAtTime]);
    if (job.stopAtTime) rows.push(['stops at', job.stopAtTime]);
  }
  rows.push([
    'logs',
    input.logs?.collect ? `collected${input.logs.directory ? ` into ${input.logs.directory}/` : ''}` : 'not collected',
  ]);
  if (input.receiverUrl) rows.push(['receiver', redactSignedUrl(input.receiverUrl)]);
  if (input.sharding) {
    const { maxItemsPerShard, maxParallelShards } = input.sharding;
    rows.push(['sharding', `shards of ${maxItemsPerShard} items, ${maxParallelShards} at once`]);
  }
  if (scheduleId) rows.push(['schedule', scheduleId]);
  const staticDetails = rows.map(([name, value]) => `**${name}**: ${value}`).join('\n\n');
  return {
    staticSummary: oneLine(staticSummary, 200),
    staticDetails,
    typedSearchAttributes: [{ key: BatchPhaseKey, value: initialPhase(input) }],
  };
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

import type { BatchPredictionResult } from '../workflows/definitions';
import { fields } from './output';
import { describeShards, type WatchCounts } from './run-progress';

/** The human form of a finished run: what happened to the items, where the logs went, where to look. */
export function formatRunResult(
  workflowId: string,
  result: BatchPredictionResult,
  uiUrl: string,
  watch?: WatchCounts,
): string {
  const items = result.job?.items;
  return fields([
    ['run', `${workflowId}: ${result.outcome}${result.job ? ` (job ${result.job.overview})` : ''}`],
    ['dataset', result.datasetId ? `${result.datasetId} (${result.itemCount} items)` : undefined],
    ['job', result.jobId],
    [
      'items',
      items
        ? `gathered ${items.gathered}, predicted ${items.predicted}, delivered ${items.delivered}` +
          ` (failed: gather ${items.failedGather}, process ${items.failedProcess}, predict ${items.failedPredict}, deliver ${items.failedDeliver})`
        : undefined,
    ],
    [
      'receiver',
      result.receiver ? `${result.receiver.predictions} stored (Delivered ${result.receiver.delivered})` : undefined,
    ],
    [
      'job logs',
      result.logs
        ? `${result.logs.filePath} (${result.logs.entries} entries${result.logs.partialMilliseconds?.length ? `; incomplete: more than a page of entries in ${result.logs.partialMilliseconds.length} millisecond(s) the server cannot page inside` : ''})`
        : undefined,
    ],
    ['shards', result.shards ? describeShards(result.shards).replace(/^shards: /, '') : undefined],
    ['polls', `${result.polls} in ${result.runs} run(s)`],
    ['watch', watch ? `${watch.queries} progress queries, ${watch.describes} describes` : undefined],
    ['web UI', uiUrl],
  ]);
}

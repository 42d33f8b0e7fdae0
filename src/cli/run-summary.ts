import { failedByStage } from '../datature-api/status-rules';
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
  const failed = items && failedByStage(items);
  const rounds = result.rounds ?? [];
  const final = result.items;
  return fields([
    ['run', `${workflowId}: ${result.outcome}${result.job ? ` (job ${result.job.overview})` : ''}`],
    ['dataset', result.datasetId ? `${result.datasetId} (${result.itemCount} items)` : undefined],
    ['job', result.jobId],
    [
      'items',
      items
        ? `gathered ${items.gathered}, predicted ${items.predicted}, delivered ${items.delivered}` +
          ` (failed: gather ${failed!.gather}, process ${failed!.process}, predict ${failed!.predict}, deliver ${failed!.deliver})`
        : undefined,
    ],
    ...rounds.map((round): [string, string] => [
      `round ${round.round}`,
      `job ${round.jobId}: ${round.itemsIn} items in, ${round.delivered} delivered, failed gather ` +
        `${round.failed.gather}, process ${round.failed.process}, predict ${round.failed.predict}, deliver ` +
        `${round.failed.deliver}; ${round.retried} sent again`,
    ]),
    [
      'outcome',
      final
        ? `${final.delivered} delivered, ${final.failed} failed in ${rounds.length} round(s)` +
          (final.failedFile
            ? `: ${final.failedFile} (re-run it with \`datature-batch run\`; last reasons and "failed after N rounds" per item in ${final.reasonsFile})`
            : '')
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

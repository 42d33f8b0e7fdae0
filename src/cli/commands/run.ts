import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { FailedItemStatus } from '../../datature-api/status-rules';
import { datasetArgumentSource } from '../../run-client/dataset-argument';
import type { BatchPredictionResult } from '../../workflows/definitions';
import { collect, parseIntFlag, parseTimeFlag } from '../config';
import { UsageError } from '../errors';
import { Output } from '../output';
import { examples } from '../program';
import { watchRun } from '../run-progress';
import { awaitRun } from '../run-result';
import { formatRunResult } from '../run-summary';
import { checkRunRequest, type RunRequest, startRun } from '../start-run';
import { withTemporal, workflowUiUrl } from '../temporal-client';

interface RunFlags {
  deployment?: string[];
  shardSize?: number;
  parallel?: number;
  artifact?: string;
  webhook?: string[];
  startAt?: string;
  stopAt?: string;
  name?: string;
  workflowId?: string;
  wait?: boolean;
  job?: string;
  retryFailed?: number;
  retryStatuses?: FailedItemStatus[];
  retryDelay?: number;
}

/** `gather,deliver` or `FailedGather,FailedDeliver`: the statuses the schema then checks. */
function parseRetryStatuses(value: string): FailedItemStatus[] {
  return value
    .split(',')
    .map((status) => status.trim())
    .filter(Boolean)
    .map((status) =>
      status.startsWith('Failed') ? status : `Failed${status.charAt(0).toUpperCase()}${status.slice(1).toLowerCase()}`,
    ) as FailedItemStatus[];
}

/** Shards running at once when `--shard-size` is given without `--parallel`. */
const DEFAULT_PARALLEL_SHARDS = 4;

/** One `--deployment` is the run's deployment; several are the shards' round-robin. */
function deploymentsOf(given: string[] | undefined): { deploymentId?: string; deploymentIds?: string[] } {
  if (!given || given.length === 0) return {};
  return given.length === 1 ? { deploymentId: given[0] } : { deploymentIds: given };
}

/** `run`: start a durable batchPrediction run; detached by default, `--wait` draws progress until it ends. */
export function register(program: Command): void {
  program
    .command('run')
    .description(
      'start a batchPrediction run on an NDJSON dataset (a file the worker can read, or a URL), or adopt a job with --job',
    )
    .argument('[dataset]', 'NDJSON file path or http(s) URL (none with --job)')
    .option(
      '--job <jobId>',
      'adopt an existing job (created by the SDK, or left by a terminated run): wait for it, collect its logs, cancel it with the run',
    )
    .option(
      '--deployment <deploymentId>',
      'existing deployment to predict with (repeatable with --shard-size: shards go round-robin)',
      collect,
    )
    .option('--shard-size <items>', 'split the source into child runs of at most this many items', parseIntFlag(1))
    .option(
      '--parallel <shards>',
      `with --shard-size: shards running at once (default ${DEFAULT_PARALLEL_SHARDS})`,
      parseIntFlag(1),
    )
    .option('--artifact <artifactId>', 'artifact to deploy for this run')
    .option('--webhook <webhookId>', 'webhook receiving the predictions (repeatable; required unless --job)', collect)
    .option('--start-at <time>', 'earliest start of the job (ISO-8601)', parseTimeFlag)
    .option('--stop-at <time>', 'stop time of the job (ISO-8601)', parseTimeFlag)
    .option(
      '--name <name>',
      'job name, made unique per run by an appended hash (default: from the workflow id; the dataset is always named after the workflow id)',
    )
    .option('--workflow-id <id>', 'workflow id (default: generated)')
    .option('--wait', 'show progress until the run ends; exit 1 if it fails')
    .option(
      '--retry-failed <rounds>',
      'follow-up rounds for items that failed (default 1; 0: none, the failed items are only written to <run>.failed.ndjson)',
      parseIntFlag(0),
    )
    .option(
      '--retry-statuses <list>',
      'item statuses sent again, comma-separated: gather, process, predict, deliver (default gather,deliver)',
      parseRetryStatuses,
    )
    .option(
      '--retry-delay <seconds>',
      'wait this long after a job before its follow-up round (default 60)',
      parseIntFlag(0),
    )
    .addHelpText(
      'after',
      examples(
        'datature-batch run items.ndjson --deployment deploy_1 --webhook webhook_1 --wait',
        'datature-batch run https://example.com/items.ndjson --artifact artifact_1 --webhook webhook_1 --name nightly',
        'datature-batch run --job batchjob_… --wait        # pick up a job a terminated run left running',
        'datature-batch run big.ndjson --shard-size 10000 --parallel 4 --deployment deploy_1 --deployment deploy_2 --webhook webhook_1',
      ),
    )
    .action(async (dataset: string | undefined, flags: RunFlags, command: Command) => {
      const output = Output.of(command);
      if (flags.job) {
        const creating = [
          dataset,
          flags.deployment,
          flags.artifact,
          flags.webhook,
          flags.startAt,
          flags.stopAt,
          flags.name,
          flags.retryFailed,
          flags.retryStatuses,
          flags.retryDelay,
          flags.shardSize,
          flags.parallel,
        ];
        if (creating.some((value) => value !== undefined)) {
          throw new UsageError(
            '--job adopts an existing job: give no dataset, --deployment, --artifact, --webhook, --start-at, --stop-at, --name, --retry-*, --shard-size or --parallel',
          );
        }
      } else if (flags.parallel !== undefined && flags.shardSize === undefined) {
        throw new UsageError('--parallel goes with --shard-size');
      } else if (dataset === undefined) {
        throw new UsageError('give a dataset (NDJSON file or URL), or --job <jobId> to adopt an existing job');
      }
      const source = dataset === undefined ? undefined : datasetArgumentSource(dataset);
      const filePath = source && 'ndjsonPath' in source ? source.ndjsonPath : undefined;
      if (filePath !== undefined && !existsSync(filePath)) throw new UsageError(`dataset file not found: ${dataset}`);
      const request: RunRequest = {
        name: flags.name,
        jobId: flags.job,
        dataset,
        ...deploymentsOf(flags.deployment),
        sharding: flags.shardSize
          ? { maxItemsPerShard: flags.shardSize, maxParallelShards: flags.parallel ?? DEFAULT_PARALLEL_SHARDS }
          : undefined,
        artifactId: flags.artifact,
        webhookIds: flags.webhook ?? [],
        startAt: flags.startAt,
        stopAt: flags.stopAt,
        retryFailedItems:
          flags.retryFailed === undefined && flags.retryStatuses === undefined && flags.retryDelay === undefined
            ? undefined
            : {
                maxRounds: flags.retryFailed,
                statuses: flags.retryStatuses,
                delayMs: flags.retryDelay === undefined ? undefined : flags.retryDelay * 1000,
              },
      };
      const input = checkRunRequest(request);
      await withTemporal(command, async (session) => {
        const handle = await startRun(session, input, flags.workflowId);
        const uiUrl = workflowUiUrl(session.config, handle.workflowId);
        if (!flags.wait) {
          output.result({ workflowId: handle.workflowId, uiUrl }, () => `started ${handle.workflowId}\n${uiUrl}`);
          return;
        }
        output.info(`started ${handle.workflowId}: ${uiUrl}`);
        // With --json nothing is drawn, so nothing is queried: the result is awaited alone.
        const watch = output.json
          ? { queries: 0, describes: 0 }
          : await watchRun(handle, {
              uploadBytes: filePath === undefined ? undefined : statSync(filePath).size,
            });
        const result = (await awaitRun(session, handle.workflowId)) as BatchPredictionResult;
        output.result({ workflowId: handle.workflowId, uiUrl, result, watch }, () =>
          formatRunResult(handle.workflowId, result, uiUrl, watch),
        );
      });
    });
}

import type { Command } from 'commander';
import { failedByStage } from '../../datature-api/status-rules';
import {
  BatchJobIdKey,
  type BatchPredictionResult,
  type BatchProgress,
  cancelSignal,
  describeCleanup,
} from '../../workflows/definitions';
import { RunFailedError } from '../errors';
import { streamJobLogs, withLogFlags } from '../job-logs';
import { Output } from '../output';
import { examples } from '../program';
import { describeShards, queryProgress, watchRun } from '../run-progress';
import { awaitRun } from '../run-result';
import { formatRunResult } from '../run-summary';
import { withTemporal, workflowUiUrl } from '../temporal-client';

/** `status`, `cancel`, `result` and `logs` of a batchPrediction run, by workflow id. */
export function register(program: Command): void {
  program
    .command('status')
    .description('show the progress of a run (the workflow`s progress query)')
    .argument('<workflowId>')
    .option('--watch', 'draw the progress until the run ends (a query at most every 5 s, when something changed)')
    .addHelpText(
      'after',
      examples('datature-batch status batch-nightly-2026-01-31', 'datature-batch status batch-nightly --watch'),
    )
    .action(async (workflowId: string, opts: { watch?: boolean }, command: Command) => {
      const output = Output.of(command);
      await withTemporal(command, async (session) => {
        const handle = session.client.workflow.getHandle(workflowId);
        const watch = opts.watch && !output.json ? await watchRun(handle) : undefined;
        if (watch) output.info(`watch: ${watch.queries} progress queries, ${watch.describes} describes`);
        const description = await handle.describe();
        const progress = await queryProgress(handle);
        // The SDK's enum says CANCELLED; Temporal (Web UI, CLI, docs) says Canceled.
        const status = description.status.name === 'CANCELLED' ? 'CANCELED' : description.status.name;
        const uiUrl = workflowUiUrl(session.config, workflowId);
        output.result({ workflowId, status, progress, uiUrl }, () => formatStatus(workflowId, status, progress, uiUrl));
      });
    });

  program
    .command('cancel')
    .description('cancel a run: signal `cancel` (the workflow cancels the job and cleans up), or --hard')
    .argument('<workflowId>')
    .option(
      '--reason <text>',
      'why, recorded in the workflow history and shown by `result` (default: cancelled from the CLI)',
    )
    .option('--hard', 'send a Temporal cancellation request (with the reason) instead of the signal')
    .addHelpText('after', examples('datature-batch cancel batch-nightly --reason "wrong dataset"'))
    .action(async (workflowId: string, opts: { reason?: string; hard?: boolean }, command: Command) => {
      const output = Output.of(command);
      await withTemporal(command, async (session) => {
        const reason = opts.reason ?? 'cancelled from the CLI';
        if (opts.hard) {
          const { requestCancellation } =
            require('../../run-client/cancellation') as typeof import('../../run-client/cancellation');
          await requestCancellation(session.client, workflowId, reason);
        } else await session.client.workflow.getHandle(workflowId).signal(cancelSignal, { reason });
        const how = opts.hard ? 'cancellation request' : 'cancel signal';
        output.result({ workflowId, sent: how, reason }, () => `sent ${how} to ${workflowId}`);
      });
    });

  program
    .command('poke')
    .description('make a run look at its job now (the `checkNow` signal) instead of at its next planned look')
    .argument('<workflowId>')
    .addHelpText('after', examples('datature-batch poke batch-nightly'))
    .action(async (workflowId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      await withTemporal(command, async (session) => {
        const { checkNow } = require('../../run-client') as typeof import('../../run-client');
        await checkNow(session.client.workflow.getHandle(workflowId), 'cli');
        output.result({ workflowId, sent: 'checkNow' }, () => `sent checkNow to ${workflowId}`);
      });
    });

  program
    .command('result')
    .description('wait for a run to finish and print its result (exit 1 if it failed or was cancelled)')
    .argument('<workflowId>')
    .addHelpText('after', examples('datature-batch result batch-nightly --json > result.json'))
    .action(async (workflowId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      await withTemporal(command, async (session) => {
        const result = (await awaitRun(session, workflowId)) as BatchPredictionResult;
        output.result(result, () => formatRunResult(workflowId, result, workflowUiUrl(session.config, workflowId)));
      });
    });

  withLogFlags(
    program
      .command('logs')
      .description('stream the job log entries of a run (or of a job id) as NDJSON')
      .argument('<workflowIdOrJobId>', 'a workflow id, or a batchjob_ id'),
  )
    .addHelpText('after', examples('datature-batch logs batch-nightly --output nightly.logs.ndjson'))
    .action(async (target: string, opts: Parameters<typeof streamJobLogs>[2], command: Command) => {
      const output = Output.of(command);
      const jobId = target.startsWith('batchjob_') ? target : await jobIdOfRun(command, target);
      const count = await streamJobLogs(command, jobId, opts);
      if (opts.output) output.info(`wrote ${count} log entries of ${jobId} to ${opts.output}`);
    });
}

/** From the run's `BatchJobId` search attribute: answered by the server, even with no worker running. */
async function jobIdOfRun(command: Command, workflowId: string): Promise<string> {
  return withTemporal(command, async (session) => {
    const description = await session.client.workflow.getHandle(workflowId).describe();
    const jobId = description.typedSearchAttributes.get(BatchJobIdKey);
    if (!jobId) throw new RunFailedError(`run ${workflowId} has no batch job yet`);
    return jobId;
  });
}

function formatStatus(workflowId: string, status: string, progress: BatchProgress | undefined, uiUrl: string): string {
  const lines = [`run       ${workflowId}`, `status    ${status}`];
  if (!progress) lines.push('progress  (no worker answered the progress query)');
  if (progress) {
    lines.push(`phase     ${progress.phase}${progress.cancelReason ? ` (cancel: ${progress.cancelReason})` : ''}`);
    if (progress.datasetId) lines.push(`dataset   ${progress.datasetId} (${progress.itemCount ?? '?'} items)`);
    if (progress.jobId) lines.push(`job       ${progress.jobId} ${progress.job?.overview ?? ''}`.trimEnd());
    if (progress.cleanup) lines.push(`cleanup   ${describeCleanup(progress.cleanup)}`);
    if (progress.shards) lines.push(`shards    ${describeShards(progress.shards).replace(/^shards: /, '')}`);
    if (progress.lastError) {
      const { message, count, since } = progress.lastError;
      lines.push(
        `API error ${message} (${count} in a row since ${new Date(since).toISOString()}; the run waits it out)`,
      );
    }
    const items = progress.job?.items;
    if (items) {
      const failed = failedByStage(items);
      lines.push(
        `items     gathered ${items.gathered}, predicted ${items.predicted}, delivered ${items.delivered}` +
          ` (failed: gather ${failed.gather}, process ${failed.process}, predict ${failed.predict}, deliver ${failed.deliver})`,
      );
    }
    for (const round of progress.rounds ?? []) {
      lines.push(
        `round ${round.round}   job ${round.jobId}: ${round.delivered} of ${round.itemsIn} delivered, ${round.retried} sent again`,
      );
    }
    if (progress.round && progress.round > (progress.rounds?.length ?? 0)) {
      lines.push(`round ${progress.round}   in flight (job ${progress.jobId ?? 'not yet created'})`);
    }
    lines.push(
      `polls     ${progress.polls}${progress.nextPollAt && status === 'RUNNING' ? `, next at ${progress.nextPollAt}` : ''}`,
    );
  }
  lines.push(`web UI    ${uiUrl}`);
  return lines.join('\n');
}

import { existsSync } from 'node:fs';
import type { Duration } from '@temporalio/common';
import { type Command, InvalidArgumentError } from 'commander';
import { datasetArgumentSource } from '../../run-client/dataset-argument';
import type { BatchScheduleDetails, BatchScheduleOptions } from '../../schedules';
import { BatchScheduleError } from '../../schedules/batch-schedule-error';
import { OVERLAP_POLICIES, type OverlapPolicy, overlapPolicyOf } from '../../schedules/overlap-policies';
import { collect, parseTimeFlag } from '../config';
import { UsageError } from '../errors';
import { fields, Output, table } from '../output';
import { examples } from '../program';
import { toBatchPredictionInput } from '../start-run';
import { withTemporal } from '../temporal-client';

// Loaded when a schedule command runs: the Temporal SDK and zod are slow to import.
const schedules = () => require('../../schedules') as typeof import('../../schedules');

function parseOverlap(value: string): OverlapPolicy {
  try {
    return overlapPolicyOf(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

interface TimingFlags {
  cron?: string;
  every?: string;
  timezone?: string;
  jitter?: string;
  overlap?: OverlapPolicy;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
}

interface JobFlags {
  deployment?: string;
  artifact?: string;
  webhook?: string[];
  name?: string;
}

/** Timing, policy and job flags shared by `create` and `update`. */
function withScheduleFlags(command: Command): Command {
  return command
    .option('--cron <expression>', 'five-field cron, e.g. "0 2 * * *" (read in --timezone)')
    .option('--every <duration>', 'fixed interval, e.g. 30m, 6h, 1d')
    .option('--timezone <zone>', 'IANA time zone of the cron expression (default UTC)')
    .option('--jitter <duration>', 'start each run up to this much later, at random')
    .option(
      '--overlap <policy>',
      `when a run is due while one is going: ${OVERLAP_POLICIES.join(', ')} (default SKIP)`,
      parseOverlap,
    )
    .option('--catchup-window <duration>', 'how far back missed runs still start after an outage')
    .option('--deployment <deploymentId>', 'existing deployment to predict with')
    .option('--artifact <artifactId>', 'artifact to deploy for each run')
    .option('--webhook <webhookId>', 'webhook receiving the predictions (repeatable; create needs one)', collect)
    .option(
      '--name <name>',
      'job name of each run, made unique by an appended hash (datasets are always named after the run’s workflow id)',
    );
}

/** The timing and policy flags as src/schedules takes them, for `create` and `update`. */
function timingAndPolicies(flags: TimingFlags) {
  return {
    cron: flags.cron,
    every: flags.every as Duration | undefined,
    timeZone: flags.timezone,
    jitter: flags.jitter as Duration | undefined,
    overlap: flags.overlap,
    catchupWindow: flags.catchupWindow as Duration | undefined,
    pauseOnFailure: flags.pauseOnFailure,
  };
}

/** Usage mistakes found by src/schedules (a bad cron, two timings, a fixed dataset, a job without webhook) exit 2. */
async function asUsage<T>(action: () => T | Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof BatchScheduleError) throw new UsageError(err.message);
    throw err;
  }
}

/** `schedule create|list|describe|pause|unpause|trigger|backfill|update|delete`: recurring batch runs. */
export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'recurring batchPrediction runs on Temporal Schedules (the dataset file or URL is re-read at each run)',
    )
    .addHelpText(
      'after',
      examples(
        'datature-batch schedule create nightly /data/items.ndjson --cron "0 2 * * *" --timezone Europe/Paris --deployment deploy_1 --webhook webhook_1',
        'datature-batch schedule create sync https://example.com/items.ndjson --every 6h --jitter 5m --artifact artifact_1',
        'datature-batch schedule describe nightly',
      ),
    );

  withScheduleFlags(
    schedule
      .command('create')
      .description('create a schedule; an empty source makes a run end as "nothing to predict"')
      .argument('<scheduleId>')
      .argument('<dataset>', 'NDJSON file path (read by the worker at each run) or http(s) URL'),
  )
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--paused', 'create it paused')
    .option('--note <text>', 'note shown with the schedule')
    .action(
      async (
        scheduleId: string,
        dataset: string,
        flags: TimingFlags & JobFlags & { paused?: boolean; note?: string },
        command: Command,
      ) => {
        const output = Output.of(command);
        const options: BatchScheduleOptions = {
          scheduleId,
          ...timingAndPolicies(flags),
          paused: flags.paused,
          note: flags.note,
          input: toBatchPredictionInput({
            dataset,
            name: flags.name,
            deploymentId: flags.deployment,
            artifactId: flags.artifact,
            webhookIds: flags.webhook ?? [],
          }),
        };
        // src/schedules checks it all once, before anything connects.
        const checked = await asUsage(() => schedules().checkBatchSchedule(options));
        // Missing now is fine (it is read at each run).
        const source = datasetArgumentSource(dataset);
        if ('ndjsonPath' in source && !existsSync(source.ndjsonPath))
          output.info(`note: ${source.ndjsonPath} does not exist yet; runs read it when they start`);
        await withTemporal(command, (session) =>
          asUsage(() =>
            schedules().createBatchSchedule(session.client, { ...checked, taskQueue: session.config.taskQueue }),
          ),
        );
        output.result({ scheduleId, created: true }, () => `created schedule ${scheduleId}`);
      },
    );

  schedule
    .command('list')
    .description('list batch schedules (the server’s listing lags a new schedule by a few seconds)')
    .action(async (_opts: unknown, command: Command) => {
      const output = Output.of(command);
      const all = await withTemporal(command, (session) => schedules().listBatchSchedules(session.client));
      output.result(all, () =>
        table(
          ['ID', 'STATE', 'NEXT RUN', 'LAST RUN'],
          all.map((summary) => [
            summary.scheduleId,
            summary.paused ? 'paused' : 'active',
            summary.nextRunTimes[0]?.toISOString() ?? '-',
            summary.lastRunAt?.toISOString() ?? '-',
          ]),
        ),
      );
    });

  schedule
    .command('describe')
    .description('timing, policies, next run times and recent runs with their results')
    .argument('<scheduleId>')
    .action(async (scheduleId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      const details = await withTemporal(command, (session) =>
        schedules().describeBatchSchedule(session.client, scheduleId),
      );
      output.result(details, () => describeText(details));
    });

  for (const [name, verb] of [
    ['pause', 'paused'],
    ['unpause', 'unpaused'],
  ] as const) {
    schedule
      .command(name)
      .description(`${name} a schedule`)
      .argument('<scheduleId>')
      .option('--note <text>', 'why (shown by describe)')
      .action(async (scheduleId: string, flags: { note?: string }, command: Command) => {
        const output = Output.of(command);
        await withTemporal(command, (session) =>
          name === 'pause'
            ? schedules().pauseBatchSchedule(session.client, scheduleId, flags.note)
            : schedules().unpauseBatchSchedule(session.client, scheduleId, flags.note),
        );
        output.result({ scheduleId, [verb]: true }, () => `${verb} ${scheduleId}`);
      });
  }

  schedule
    .command('trigger')
    .description('start a run now')
    .argument('<scheduleId>')
    .option('--overlap <policy>', 'overlap policy for this run only (default: the schedule’s own)', parseOverlap)
    .action(async (scheduleId: string, flags: { overlap?: OverlapPolicy }, command: Command) => {
      const output = Output.of(command);
      await withTemporal(command, (session) =>
        schedules().triggerBatchSchedule(session.client, scheduleId, flags.overlap),
      );
      output.result({ scheduleId, triggered: true }, () => `triggered ${scheduleId}`);
    });

  schedule
    .command('backfill')
    .description('take the runs the schedule would have taken between --start and --end')
    .argument('<scheduleId>')
    .requiredOption('--start <time>', 'ISO-8601', parseTimeFlag)
    .requiredOption('--end <time>', 'ISO-8601', parseTimeFlag)
    .option('--overlap <policy>', 'overlap policy for the backfilled runs', parseOverlap)
    .action(
      async (scheduleId: string, flags: { start: string; end: string; overlap?: OverlapPolicy }, command: Command) => {
        const output = Output.of(command);
        await withTemporal(command, (session) =>
          asUsage(() =>
            schedules().backfillBatchSchedule(session.client, scheduleId, {
              start: new Date(flags.start),
              end: new Date(flags.end),
              overlap: flags.overlap,
            }),
          ),
        );
        output.result(
          { scheduleId, backfilled: { start: flags.start, end: flags.end } },
          () => `backfilling ${scheduleId} from ${flags.start} to ${flags.end}`,
        );
      },
    );

  withScheduleFlags(
    schedule
      .command('update')
      .description('change timing, policies, dataset or job options; the rest stays')
      .argument('<scheduleId>'),
  )
    .option('--dataset <fileOrUrl>', 'new NDJSON file path or http(s) URL')
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--no-pause-on-failure', 'keep the schedule running when a run fails')
    .action(async (scheduleId: string, flags: TimingFlags & JobFlags & { dataset?: string }, command: Command) => {
      const output = Output.of(command);
      const jobChanges = {
        dataset: flags.dataset,
        name: flags.name,
        webhookIds: flags.webhook,
        deploymentId: flags.deployment,
        artifactId: flags.artifact,
      };
      await withTemporal(command, (session) =>
        asUsage(() =>
          schedules().updateBatchSchedule(session.client, scheduleId, {
            ...timingAndPolicies(flags),
            input: (current) => schedules().withJobChanges(current, jobChanges),
          }),
        ),
      );
      output.result({ scheduleId, updated: true }, () => `updated ${scheduleId}`);
    });

  schedule
    .command('delete')
    .description('delete a schedule (runs already started keep going)')
    .argument('<scheduleId>')
    .action(async (scheduleId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      await withTemporal(command, (session) => schedules().deleteBatchSchedule(session.client, scheduleId));
      output.result({ scheduleId, deleted: true }, () => `deleted ${scheduleId}`);
    });
}

function describeText(details: BatchScheduleDetails): string {
  const timing = details.timing.cron
    ? `cron "${details.timing.cron}"${details.timing.timeZone ? ` (${details.timing.timeZone})` : ' (UTC)'}`
    : `every ${details.timing.every}`;
  const source = details.input.dataset;
  const runs = details.recentRuns.map((run) => [
    run.workflowId,
    run.status,
    run.startedAt.toISOString(),
    run.result
      ? `${run.result.outcome}, ${run.result.itemCount} items${run.result.job ? `, ${run.result.job.items.delivered} delivered` : ''}`
      : (run.failure ?? ''),
  ]);
  return [
    fields([
      ['schedule', details.scheduleId],
      ['state', details.paused ? `paused${details.note ? ` (${details.note})` : ''}` : 'active'],
      ['timing', timing + (details.jitterMs ? `, jitter ${details.jitterMs / 1000}s` : '')],
      ['overlap', details.policies.overlap],
      ['catch-up window', `${details.policies.catchupWindowMs / 1000}s`],
      ['pause on failure', details.policies.pauseOnFailure],
      [
        'dataset',
        !source ? '-' : 'ndjsonPath' in source ? source.ndjsonPath : 'ndjsonUrl' in source ? source.ndjsonUrl : source,
      ],
      ['runs taken', details.runsTaken],
      ['skipped (overlap)', details.runsSkippedForOverlap],
      ['next runs', details.nextRunTimes.map((time) => time.toISOString()).join(', ') || '-'],
    ]),
    '',
    'recent runs:',
    table(['WORKFLOW ID', 'STATUS', 'STARTED', 'RESULT'], runs),
  ].join('\n');
}

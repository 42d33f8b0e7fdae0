import type { Command } from 'commander';
import type { Job } from '../../datature-api';
import { datatureApiFor } from '../api-client';
import { collect, parseIntFlag, parseTimeFlag } from '../config';
import { UsageError } from '../errors';
import { type LogFlags, streamJobLogs, withLogFlags } from '../job-logs';
import { fields, Output, table } from '../output';
import { examples } from '../program';

/** `jobs create|list|get|cancel|delete|logs`, mirroring the Python SDK's `datature batch jobs`. */
export function register(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('batch prediction jobs (the raw API; `run` drives the whole durable pipeline)')
    .addHelpText(
      'after',
      examples(
        'datature-batch jobs create --name nightly --dataset dataset_1 --webhook webhook_1 --deployment deploy_1',
        'datature-batch jobs logs batchjob_1 --level Error --output errors.ndjson',
      ),
    );

  jobs
    .command('create')
    .description('create a batch job on an uploaded dataset')
    .requiredOption('--name <name>', 'job name')
    .requiredOption('--dataset <datasetId>', 'dataset to predict')
    .requiredOption('--webhook <webhookId>', 'webhook receiving the predictions (repeatable)', collect)
    .option('--deployment <deploymentId>', 'existing deployment to run')
    .option('--artifact <artifactId>', 'artifact to deploy for this job')
    .option('--start-at <time>', 'earliest start (ISO-8601)', parseTimeFlag)
    .option('--stop-at <time>', 'stop time (ISO-8601)', parseTimeFlag)
    .action(
      async (
        opts: {
          name: string;
          dataset: string;
          webhook: string[];
          deployment?: string;
          artifact?: string;
          startAt?: string;
          stopAt?: string;
        },
        command: Command,
      ) => {
        const output = Output.of(command);
        if (Boolean(opts.deployment) === Boolean(opts.artifact)) {
          throw new UsageError('give exactly one of --deployment and --artifact');
        }
        const job = await datatureApiFor(command).jobs.create({
          name: opts.name,
          datasetId: opts.dataset,
          webhookIds: opts.webhook,
          deploymentId: opts.deployment,
          artifactId: opts.artifact,
          startAtTime: opts.startAt ? Date.parse(opts.startAt) : undefined,
          stopAtTime: opts.stopAt ? Date.parse(opts.stopAt) : undefined,
        });
        output.result(job, () => describeJob(job));
      },
    );

  jobs
    .command('list')
    .description('list batch jobs')
    .option('--limit <n>', 'page size', parseIntFlag(1))
    .action(async (opts: { limit?: number }, command: Command) => {
      const output = Output.of(command);
      const all: Job[] = [];
      for await (const job of datatureApiFor(command).jobs.list({ limit: opts.limit })) all.push(job);
      output.result(all, () =>
        table(
          ['ID', 'NAME', 'STATUS', 'PREDICTED', 'DELIVERED'],
          all.map((job) => [
            job.id,
            job.name,
            job.status.overview,
            String(job.status.items.predicted),
            String(job.status.items.delivered),
          ]),
        ),
      );
    });

  for (const [name, description] of [
    ['get', 'show one batch job'],
    ['cancel', 'cancel a batch job'],
    ['delete', 'delete a batch job'],
  ] as const) {
    jobs
      .command(name)
      .description(description)
      .argument('<jobId>')
      .action(async (jobId: string, _opts: unknown, command: Command) => {
        const output = Output.of(command);
        const datatureApi = datatureApiFor(command);
        if (name === 'delete') {
          const deleted = await datatureApi.jobs.delete(jobId);
          output.result(deleted, () => `deleted job ${jobId}`);
          return;
        }
        const job = name === 'get' ? await datatureApi.jobs.get(jobId) : await datatureApi.jobs.cancel(jobId);
        output.result(job, () => describeJob(job));
      });
  }

  withLogFlags(
    jobs.command('logs').description('stream the log entries of a job as NDJSON').argument('<jobId>'),
  ).action(async (jobId: string, opts: LogFlags, command: Command) => {
    const output = Output.of(command);
    const count = await streamJobLogs(command, jobId, opts);
    if (opts.output) output.info(`wrote ${count} log entries to ${opts.output}`);
  });
}

function describeJob(job: Job): string {
  return fields([
    ['id', job.id],
    ['name', job.name],
    ['status', job.status.overview],
    ['message', job.status.message || undefined],
    ['items', job.status.items],
  ]);
}

import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { Job } from '../../datature-api';
import type { Stack } from '../../dev';
import type { BatchPredictionResult } from '../../workflows/definitions';
import type { GlobalOptions } from '../config';
import { RunFailedError } from '../errors';
import { fields, Output } from '../output';
import { examples } from '../program';
import { watchRun } from '../run-progress';
import { awaitRun } from '../run-result';
import { assertNothingExternal, type StackFlags, startStackFrom, withStackFlags } from '../stack-flags';
import { checkRunRequest, startRun } from '../start-run';
import { connectTemporalTo, workflowUiUrl } from '../temporal-client';
import { readOrCreateWebhookSecret } from '../webhook-secret';

interface DemoSummary {
  workflowId: string;
  jobId: string;
  status: string;
  itemCount: number;
  items: Job['status']['items'];
  receiverCount: number;
  datasetFile: string;
  logsFile?: string;
  logEntries: number;
  predictionsFile: string;
  uiUrl: string;
  /** The worker's Prometheus endpoint (absent when the demo attached to a stack without one). */
  metricsUrl?: string;
  elapsedMs: number;
}

/** `demo`: the whole pipeline on the embedded stack and the bundled sample images, end to end. */
export function register(program: Command): void {
  withStackFlags(
    program
      .command('demo')
      .description('run batchPrediction on the bundled sample images against the embedded stack, with live progress'),
  )
    .addHelpText('after', examples('npm run demo', 'datature-batch demo --json'))
    .action(async (flags: StackFlags, command: Command) => {
      const output = Output.of(command);
      assertNothingExternal(command.optsWithGlobals<GlobalOptions>());
      const startedAt = Date.now();
      // The demo's own stack stops when the demo ends; a running `dev` stack is reused.
      const stack = await startStackFrom(flags, (message) => output.info(message), { shareable: false });
      try {
        const summary = await runDemo(stack, output, startedAt);
        output.result(summary, () => formatSummary(summary));
        if (!stack.reused) {
          output.info(
            "the stack stops with the demo: to keep the Web UI up, start 'datature-batch dev' first (the demo then reuses it)",
          );
        }
        const complete = summary.items.delivered === summary.itemCount && summary.receiverCount === summary.itemCount;
        if (!complete) {
          throw new RunFailedError(
            `demo incomplete: ${summary.items.delivered}/${summary.itemCount} delivered, receiver has ${summary.receiverCount}`,
          );
        }
      } finally {
        await stack.close();
      }
    });
}

async function runDemo(stack: Stack, output: Output, startedAt: number): Promise<DemoSummary> {
  const { DatatureClient } = require('../../datature-api') as typeof import('../../datature-api');
  const { DEV_DEPLOYMENT_ID } = require('../../emulator') as typeof import('../../emulator');
  const datatureApi = new DatatureClient({
    secretKey: stack.secretKey,
    projectId: stack.projectId,
    baseUrl: stack.emulatorUrl,
  });

  const workflowId = `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const demoDir = join(dirname(stack.stateFile), 'demo');
  mkdirSync(demoDir, { recursive: true });
  const datasetFile = join(demoDir, `${workflowId}.dataset.ndjson`);
  const itemCount = writeSampleDataset(datasetFile, stack.fileServerUrl);

  const webhook = await datatureApi.webhooks.create({
    name: `demo-receiver-${workflowId}`,
    endpoint: stack.receiverUrl,
    secret: readOrCreateWebhookSecret(stack.webhookSecretFile).secret,
  });
  const temporal = { address: stack.temporalAddress, namespace: stack.namespace, taskQueue: stack.taskQueue };
  const session = await connectTemporalTo(temporal);
  try {
    const uiUrl = workflowUiUrl(temporal, workflowId, stack.uiUrl);
    output.info(`run ${workflowId}: ${uiUrl}`);
    const input = checkRunRequest({
      name: workflowId,
      dataset: datasetFile,
      deploymentId: DEV_DEPLOYMENT_ID,
      webhookIds: [webhook.id],
      receiverUrl: stack.receiverUrl,
      logsDirectory: 'demo',
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    });
    const handle = await startRun(session, input, workflowId);
    if (!output.json) await watchRun(handle, { uploadBytes: statSync(datasetFile).size });
    const result = (await awaitRun(session, workflowId)) as BatchPredictionResult;
    if (!result.jobId) throw new RunFailedError(`run ${workflowId} ended (${result.outcome}) without a batch job`);
    // The counters shown are the API's own, read after the run, not the workflow's last poll.
    const job = await datatureApi.jobs.get(result.jobId);
    return {
      workflowId,
      jobId: job.id,
      status: job.status.overview,
      itemCount,
      items: job.status.items,
      receiverCount: result.receiver?.predictions ?? 0,
      datasetFile,
      logsFile: result.logs?.filePath,
      logEntries: result.logs?.entries ?? 0,
      predictionsFile: stack.predictionsFile,
      uiUrl,
      ...(stack.metricsUrl ? { metricsUrl: stack.metricsUrl } : {}),
      elapsedMs: Date.now() - startedAt,
    };
  } finally {
    await session.close();
  }
}

/** One NDJSON line per sample image, pointing at the stack's file server. */
function writeSampleDataset(
  path: string,
  fileServerUrl: string,
  samplesDir = join(__dirname, '..', '..', '..', 'samples', 'images'),
): number {
  const images = readdirSync(samplesDir)
    .filter((name) => /\.(png|jpe?g)$/i.test(name))
    .sort();
  writeFileSync(
    path,
    images.map((name) => JSON.stringify({ kind: 'Image', url: `${fileServerUrl}/${name}` }) + '\n').join(''),
  );
  return images.length;
}

function formatSummary(summary: DemoSummary): string {
  const items = summary.items;
  return [
    '',
    `demo run ${summary.workflowId}: job ${summary.jobId} ${summary.status} in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
    fields([
      ['items', summary.itemCount],
      ['gathered', `${items.gathered} (failed ${items.failedGather})`],
      ['preprocessed', `${items.preprocessed} (failed ${items.failedProcess})`],
      ['predicted', `${items.predicted} (failed ${items.failedPredict})`],
      ['delivered', `${items.delivered} (failed ${items.failedDeliver})`],
      ['receiver', `${summary.receiverCount} predictions stored for this job (Delivered: ${items.delivered})`],
      ['predictions', summary.predictionsFile],
      ['job logs', summary.logsFile ? `${summary.logsFile} (${summary.logEntries} entries)` : '(not collected)'],
      ['dataset', summary.datasetFile],
      ['web UI', summary.uiUrl],
      ...(summary.metricsUrl ? ([['worker metrics', summary.metricsUrl]] as [string, string][]) : []),
    ]),
  ].join('\n');
}

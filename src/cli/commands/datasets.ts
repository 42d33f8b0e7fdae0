import type { Command } from 'commander';
import type { Dataset } from '../../datature-api';
// Dependency-free module: loaded with the command, not with the client.
import { redactSignedUrl } from '../../datature-api/signed-url';
import { datatureApiFor } from '../api-client';
import { parseIntFlag } from '../config';
import { fields, Output, table } from '../output';
import { examples } from '../program';
import { formatBytes, ProgressBoard } from '../progress-bar';

/** `datasets create|list|get|delete`, mirroring the Python SDK's `datature batch datasets`. */
export function register(program: Command): void {
  const datasets = program
    .command('datasets')
    .description('batch datasets (NDJSON files of items to predict)')
    .addHelpText(
      'after',
      examples('datature-batch datasets create --name cats items.ndjson', 'datature-batch datasets list --json'),
    );

  datasets
    .command('create')
    .description('validate, register and upload an NDJSON file, then wait until it is processed')
    .argument('<file>', 'NDJSON file, one item per line')
    .requiredOption('--name <name>', 'dataset name')
    .option('--no-wait', 'return once uploaded, without waiting for processing')
    .action(async (file: string, opts: { name: string; wait: boolean }, command: Command) => {
      const output = Output.of(command);
      const datatureApi = datatureApiFor(command);
      const board = output.json ? undefined : new ProgressBoard();
      const created = await datatureApi.datasets.create(
        { name: opts.name, source: file },
        {
          onUploadProgress: (sent: number, total: number) => {
            board?.set('upload', sent, total, formatBytes);
            board?.render(sent === total);
          },
        },
      );
      const dataset = printable(opts.wait ? await datatureApi.datasets.waitUntilDone(created.id) : created);
      output.result(dataset, () => describeDataset(dataset));
    });

  datasets
    .command('list')
    .description('list datasets')
    .option('--show-expired', 'include expired datasets')
    .option('--limit <n>', 'page size', parseIntFlag(1))
    .action(async (opts: { showExpired?: boolean; limit?: number }, command: Command) => {
      const output = Output.of(command);
      const datatureApi = datatureApiFor(command);
      const all: Dataset[] = [];
      for await (const dataset of datatureApi.datasets.list({ showExpired: opts.showExpired, limit: opts.limit }))
        all.push(printable(dataset));
      output.result(all, () =>
        table(
          ['ID', 'NAME', 'STATUS', 'ITEMS'],
          all.map((dataset) => [
            dataset.id,
            dataset.name,
            dataset.status.overview,
            String(dataset.status.itemCount ?? ''),
          ]),
        ),
      );
    });

  datasets
    .command('get')
    .description('show one dataset')
    .argument('<datasetId>')
    .action(async (datasetId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      const dataset = printable(await datatureApiFor(command).datasets.get(datasetId));
      output.result(dataset, () => describeDataset(dataset));
    });

  datasets
    .command('delete')
    .description('delete a dataset')
    .argument('<datasetId>')
    .action(async (datasetId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      const deleted = await datatureApiFor(command).datasets.delete(datasetId);
      output.result(deleted, () => `deleted dataset ${datasetId}`);
    });
}

/** The dataset as printed: the query of its upload URL (the signature, a credential) is masked. */
function printable(dataset: Dataset): Dataset {
  const uploadUrl = dataset.status?.source?.uploadUrl;
  if (typeof uploadUrl?.url !== 'string') return dataset;
  const source = { ...dataset.status.source, uploadUrl: { ...uploadUrl, url: redactSignedUrl(uploadUrl.url) } };
  return { ...dataset, status: { ...dataset.status, source } };
}

function describeDataset(dataset: {
  id: string;
  name: string;
  status: { overview: string; itemCount?: number | null };
}): string {
  return fields([
    ['id', dataset.id],
    ['name', dataset.name],
    ['status', dataset.status.overview],
    ['items', dataset.status.itemCount ?? undefined],
  ]);
}

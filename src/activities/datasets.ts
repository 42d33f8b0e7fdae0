import type { Readable } from 'node:stream';
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ConflictError, type Dataset, type DatatureClient, noteShardStarts, validateNdjson } from '../datature-api';
import type {
  DatasetSnapshot,
  SourceSummary,
  UploadDatasetRequest,
  ValidateSourceOptions,
} from '../workflows/activity-contract';
import type { DatasetSourceInput, ItemRange } from '../workflows/definitions';
import { FailureType } from '../workflows/failures';
import { mapped } from './error-mapping';
import { type ByteSource, byteSourceOpener, sourceLocation, sourceReadFailure } from './source-streams';

const UPLOAD_TIMEOUT_MS = 2 * 3_600_000;
/**
 * A sharded run carries its shards' byte offsets (about 11 bytes each) in this activity's result and in every
 * continue-as-new, next to its shard table: past this many shards the payloads would near Temporal's 2 MB
 * limit, so the shards of such a run read the whole source instead.
 */
export const MAX_SHARDS_WITH_BYTE_RANGES = 50_000;
/** Past these, an earlier attempt's upload reached the server: the dataset is reused, not uploaded again. */
const UPLOADED_OR_UPLOADING = new Set(['Uploading', 'Processing', 'Processed', 'Uploaded']);

function byteSource(source: DatasetSourceInput): ByteSource {
  if ('datasetId' in source) {
    throw ApplicationFailure.nonRetryable('an existing dataset has no bytes to read', FailureType.InvalidInput);
  }
  return source;
}

/**
 * What the Datature client reads: a whole local file by its path (the client's memory-lean file reading,
 * into reused buffers, in two halves at once when large), anything else (a shard's item range included) as
 * a fresh stream per pass.
 */
function readable(source: ByteSource, signal: AbortSignal): string | (() => Readable) {
  return 'ndjsonPath' in source && !source.itemRange ? source.ndjsonPath : byteSourceOpener(source, signal);
}

/**
 * One streaming pass over the source: NDJSON check, size, CRC32C, and with `shardStartsEvery` where each shard
 * starts; heartbeats `{ readBytes }`. A shard's items (and bytes, when its range names where they end) must be as
 * many as its range says: the source changed since the sharded run split it otherwise.
 */
export async function validateSource(
  source: DatasetSourceInput,
  { allowEmpty, shardStartsEvery }: ValidateSourceOptions = {},
): Promise<SourceSummary> {
  const signal = Context.current().cancellationSignal;
  const bytes = byteSource(source);
  const onBytesRead = (readBytes: number) => heartbeat({ readBytes });
  const starts: number[] = [];
  // The shard starts are noted on the way through a stream (the lean file path reads in two halves at once).
  const from = shardStartsEvery
    ? () => {
        starts.length = 0; // each pass notes them afresh
        return noteShardStarts(
          byteSourceOpener(bytes, signal)(),
          shardStartsEvery,
          starts,
          MAX_SHARDS_WITH_BYTE_RANGES,
        );
      }
    : readable(bytes, signal);
  const summary = await mapped(() =>
    validateNdjson(from, { allowEmpty, signal, onBytesRead }).catch((err: unknown) => {
      throw sourceReadFailure(bytes, err);
    }),
  );
  const changed = bytes.itemRange && rangeMismatch(bytes.itemRange, summary);
  if (changed) {
    throw ApplicationFailure.nonRetryable(
      `dataset source ${sourceLocation(bytes)}: ${changed}; the source changed since the run split it`,
      FailureType.InvalidInput,
    );
  }
  if (!shardStartsEvery) return summary;
  const shardCount = Math.ceil(summary.itemCount / shardStartsEvery);
  if (shardCount > MAX_SHARDS_WITH_BYTE_RANGES) return summary;
  // A start at the item count is the end of the file (or of its blank last line): no shard starts there.
  return { ...summary, shardStarts: starts.slice(0, shardCount - 1) };
}

/** How a shard's source differs from what its sharded run found: another item count, or (with its end) length. */
function rangeMismatch(range: ItemRange, { itemCount, sizeBytes }: SourceSummary): string | undefined {
  const items = range.end - range.start;
  if (itemCount !== items) return `${itemCount} items where the sharded run counted ${items}`;
  if (range.byteEnd === undefined) return undefined;
  const length = range.byteEnd - (range.byteStart ?? 0);
  return sizeBytes === length ? undefined : `${sizeBytes} bytes where the sharded run found ${length}`;
}

async function liveDatasetsNamed(datatureApi: DatatureClient, name: string, signal: AbortSignal): Promise<Dataset[]> {
  const found: Dataset[] = [];
  for await (const dataset of datatureApi.datasets.list({}, { signal })) if (dataset.name === name) found.push(dataset);
  return found;
}

function reusable(dataset: Dataset, expected: SourceSummary): boolean {
  if (!UPLOADED_OR_UPLOADING.has(dataset.status.overview)) return false;
  return dataset.status.overview !== 'Uploaded' || dataset.status.itemCount === expected.itemCount;
}

async function deleteDataset(datatureApi: DatatureClient, datasetId: string, signal: AbortSignal): Promise<void> {
  try {
    await datatureApi.datasets.delete(datasetId, { signal });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    // A 409 on delete means "still uploading or processing": worth retrying later, unlike other 4xx.
    throw ApplicationFailure.create({ message: err.message, type: FailureType.DatasetBusy, nextRetryDelay: 5000 });
  }
}

/**
 * Idempotent by name: a dataset an earlier attempt already uploaded (or is uploading) is reused; any other
 * dataset of that name (still Waiting, failed, expired, or holding other items) is deleted first, so at most
 * one is live. Heartbeats `{ datasetId, sentBytes, totalBytes }`.
 */
export function uploadDataset(
  datatureApi: DatatureClient,
  request: UploadDatasetRequest,
): Promise<{ datasetId: string }> {
  const signal = Context.current().cancellationSignal;
  const source = byteSource(request.source);
  return mapped(async () => {
    let reused: Dataset | undefined;
    for (const dataset of await liveDatasetsNamed(datatureApi, request.name, signal)) {
      if (!reused && reusable(dataset, request.expected)) reused = dataset;
      else await deleteDataset(datatureApi, dataset.id, signal);
    }
    if (reused) return { datasetId: reused.id };
    const { sizeBytes, crc32c, itemCount } = request.expected;
    const dataset = await datatureApi.datasets.createRecord({ name: request.name, sizeBytes, crc32c }, { signal });
    heartbeat({ datasetId: dataset.id, sentBytes: 0, totalBytes: sizeBytes });
    try {
      await datatureApi.datasets.upload(dataset.status.source.uploadUrl, readable(source, signal), {
        signal,
        // A big file may take long; the heartbeat timeout, not a request timeout, catches a stalled upload.
        timeoutMs: UPLOAD_TIMEOUT_MS,
        described: { sizeBytes, crc32c, itemCount },
        onUploadProgress: (sentBytes, totalBytes) => heartbeat({ datasetId: dataset.id, sentBytes, totalBytes }),
      });
    } catch (err) {
      // A source that vanished since validation.
      throw sourceReadFailure(source, err);
    }
    return { datasetId: dataset.id };
  });
}

export function getDataset(datatureApi: DatatureClient, datasetId: string): Promise<DatasetSnapshot> {
  const signal = Context.current().cancellationSignal;
  return mapped(async () => {
    const { status } = await datatureApi.datasets.get(datasetId, { signal });
    return { overview: status.overview, message: status.message, itemCount: status.itemCount };
  });
}

export async function deleteDatasetsNamed(datatureApi: DatatureClient, name: string): Promise<{ deleted: number }> {
  const signal = Context.current().cancellationSignal;
  return mapped(async () => {
    const datasets = await liveDatasetsNamed(datatureApi, name, signal);
    for (const dataset of datasets) await deleteDataset(datatureApi, dataset.id, signal);
    return { deleted: datasets.length };
  });
}

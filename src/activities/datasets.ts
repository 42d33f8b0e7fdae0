import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Dataset, type NexusClient, NexusConnectionError, validateNdjson } from '../nexus';
import type { DatasetSourceInput } from '../workflows/definitions';
import { isConflict, mapped, toApplicationFailure } from './error-mapping';
import { type ByteSource, sourceOpener, sourceReadFailure } from './source-streams';
import type { DatasetSnapshot, SourceSummary } from './types';

/** An upload URL this close to expiry is not worth starting a (possibly long) upload with. */
const URL_SAFETY_MARGIN_MS = 5 * 60_000;
const UPLOAD_TIMEOUT_MS = 2 * 3_600_000;
const FAILED = new Set(['FailedUpload', 'FailedProcessing']);

function byteSource(source: DatasetSourceInput): ByteSource {
  if ('datasetId' in source) {
    throw ApplicationFailure.nonRetryable('an existing dataset has no bytes to read', 'InvalidSource');
  }
  return source;
}

/** One streaming pass over the source: NDJSON check, size, CRC32C; heartbeats `{ readBytes }`. */
export async function validateSource(
  source: DatasetSourceInput,
  options: { allowEmpty?: boolean } = {},
): Promise<SourceSummary> {
  const signal = Context.current().cancellationSignal;
  const bytes = byteSource(source);
  const open = sourceOpener(bytes, signal, (readBytes) => heartbeat({ readBytes }));
  try {
    return await mapped(() => validateNdjson(open, options));
  } catch (err) {
    throw sourceReadFailure(bytes, err);
  }
}

async function liveDatasetsNamed(nexus: NexusClient, name: string, signal: AbortSignal): Promise<Dataset[]> {
  const found: Dataset[] = [];
  for await (const dataset of nexus.datasets.list({}, { signal })) if (dataset.name === name) found.push(dataset);
  return found;
}

function isReusable(dataset: Dataset, now: number): boolean {
  if (FAILED.has(dataset.status.overview)) return false;
  if (dataset.status.overview !== 'Waiting') return true;
  return dataset.status.source.uploadUrl.expiresAtTime > now + URL_SAFETY_MARGIN_MS;
}

/**
 * Idempotent by name: an earlier attempt's dataset is reused (re-uploaded if still Waiting with a valid URL,
 * left alone if already past the upload); failed or expired ones are deleted first, so at most one is live.
 * Heartbeats `{ datasetId, sentBytes, totalBytes }`.
 */
export function uploadDataset(
  nexus: NexusClient,
  request: { name: string; source: DatasetSourceInput; expected: SourceSummary },
): Promise<{ datasetId: string }> {
  const signal = Context.current().cancellationSignal;
  const source = byteSource(request.source);
  return mapped(async () => {
    let reusable: Dataset | undefined;
    for (const dataset of await liveDatasetsNamed(nexus, request.name, signal)) {
      if (!reusable && isReusable(dataset, Date.now())) reusable = dataset;
      else await nexus.datasets.delete(dataset.id, { signal });
    }
    if (reusable && reusable.status.overview !== 'Waiting') return { datasetId: reusable.id };
    const { sizeBytes, crc32c, itemCount } = request.expected;
    const dataset =
      reusable ?? (await nexus.datasets.createRecord({ name: request.name, sizeBytes, crc32c }, { signal }));
    heartbeat({ datasetId: dataset.id, sentBytes: 0, totalBytes: sizeBytes });
    try {
      await nexus.datasets.upload(dataset.status.source.uploadUrl, sourceOpener(source, signal), {
        signal,
        // A big file may take long; the heartbeat timeout, not a request timeout, catches a stalled upload.
        timeoutMs: UPLOAD_TIMEOUT_MS,
        described: { sizeBytes, crc32c, itemCount },
        onUploadProgress: (sentBytes, totalBytes) => heartbeat({ datasetId: dataset.id, sentBytes, totalBytes }),
      });
    } catch (err) {
      // The request reports a source that vanished since validation as a connection error caused by it.
      if (err instanceof NexusConnectionError) {
        const failure = sourceReadFailure(source, err.cause);
        if (failure !== err.cause) throw failure;
      }
      throw err;
    }
    return { datasetId: dataset.id };
  });
}

export function getDataset(nexus: NexusClient, datasetId: string): Promise<DatasetSnapshot> {
  return mapped(async () => {
    const { status } = await nexus.datasets.get(datasetId);
    return { overview: status.overview, message: status.message, itemCount: status.itemCount };
  });
}

export async function deleteDatasetsNamed(nexus: NexusClient, name: string): Promise<{ deleted: number }> {
  const signal = Context.current().cancellationSignal;
  try {
    let deleted = 0;
    for (const dataset of await liveDatasetsNamed(nexus, name, signal)) {
      await nexus.datasets.delete(dataset.id, { signal });
      deleted += 1;
    }
    return { deleted };
  } catch (err) {
    if (isConflict(err)) {
      // Still uploading/processing server-side: it can be deleted once that ends.
      throw ApplicationFailure.create({ message: (err as Error).message, type: 'ConflictError', nextRetryDelay: 5000 });
    }
    throw toApplicationFailure(err);
  }
}

import { countingBytes, type DatasetSourceInput, FILE_CHUNK_BYTES, fileChunks, sourceOpener } from './dataset-source';
import { DatatureWaitError } from './errors';
import {
  type Dataset,
  DatasetSchema,
  type DatasetUploadUrl,
  DeleteResponseSchema,
  type Page,
  pageSchema,
  type UploadHeaders,
} from './models';
import { type NdjsonDescription, validateNdjson } from './ndjson';
import { type PageParams, paginate } from './pagination';
import { pollUntil, type WaitOptions } from './polling';
import { checkHttpUrl, checkId, checkIntInRange, checkName } from './request-validation';
import { ApiResource, seg } from './resource';
import { datasetState } from './status-rules';
import type { RequestOptions } from './transport';

export interface DatasetCreateParams {
  name: string;
  source: DatasetSourceInput;
}

export interface DatasetRecordParams {
  name: string;
  sizeBytes: number;
  /** Base64 CRC32C of the file, as computed by validateNdjson. */
  crc32c: string;
}

export interface UploadOptions extends RequestOptions {
  onUploadProgress?: (sentBytes: number, totalBytes: number) => void;
}

export interface DatasetListParams {
  /** The API lists expired datasets too; like the official SDK, they are dropped unless asked for. */
  showExpired?: boolean;
  limit?: number;
}

/** The only source kind the API knows. */
export const NDJSON_SOURCE_KIND = 'UploadedNewlineDelimitedJsonFile';
const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

const DatasetPageSchema = pageSchema(DatasetSchema);

export class Datasets extends ApiResource {
  /**
   * Validates the NDJSON (one streaming pass, no request at all when it is invalid), registers the dataset,
   * then streams the bytes to the signed upload URL. Returns the dataset as created; processing continues
   * server-side, see waitUntilDone.
   */
  async create(params: DatasetCreateParams, options: UploadOptions = {}): Promise<Dataset> {
    checkName('name', params.name);
    const described = await validateNdjson(params.source);
    const dataset = await this.createRecord({ name: params.name, ...described }, options);
    await this.upload(dataset.status.source.uploadUrl, params.source, { ...options, described });
    return dataset;
  }

  /** The POST alone: registers a dataset of the given size and checksum and gets its upload URL. */
  createRecord(params: DatasetRecordParams, options?: RequestOptions): Promise<Dataset> {
    checkName('name', params.name);
    checkIntInRange('sizeBytes', params.sizeBytes, 1, Number.MAX_SAFE_INTEGER);
    const json = {
      name: params.name,
      spec: { source: { kind: NDJSON_SOURCE_KIND, sizeBytes: params.sizeBytes, crc32c: params.crc32c } },
    };
    return this.transport.call(
      { method: 'POST', path: this.path('datasets'), json, schema: DatasetSchema, idempotent: false },
      options,
    );
  }

  /**
   * The signed-URL request alone, streaming from the source with exactly the headers the API returned.
   * `described` (size, CRC32C) is computed with an extra pass when not given. A source that fails to read
   * (a file deleted since, a broken stream) rejects with its own error, not as a connection problem.
   */
  async upload(
    uploadUrl: DatasetUploadUrl,
    source: DatasetSourceInput,
    options: UploadOptions & { described?: NdjsonDescription } = {},
  ): Promise<void> {
    checkHttpUrl('uploadUrl.url', uploadUrl.url);
    const described = options.described ?? (await validateNdjson(source));
    const open = sourceOpener(source);
    const total = described.sizeBytes;
    let sourceError: unknown;
    try {
      await this.transport.raw(
        {
          method: uploadUrl.method || 'PUT',
          url: uploadUrl.url,
          headers: uploadHeaders(uploadUrl.headers, described),
          body: () => {
            const onBytes = (sent: number) => options.onUploadProgress?.(sent, total);
            if (typeof source === 'string') return uploadedFileChunks(source, onBytes, (err) => (sourceError = err));
            const stream = open().once('error', (err) => {
              sourceError = err;
            });
            return countingBytes(stream, onBytes);
          },
        },
        options,
      );
    } catch (err) {
      throw sourceError ?? err;
    }
  }

  list(params: DatasetListParams = {}, options?: RequestOptions): AsyncGenerator<Dataset> {
    return paginate((page) => this.listPage({ page, limit: params.limit, showExpired: params.showExpired }, options));
  }

  async listPage(
    params: PageParams & { showExpired?: boolean } = {},
    options?: RequestOptions,
  ): Promise<Page<Dataset>> {
    const page = await this.transport.call(
      {
        method: 'GET',
        path: this.path('datasets'),
        query: { page: params.page, limit: params.limit },
        schema: DatasetPageSchema,
        idempotent: true,
      },
      options,
    );
    if (params.showExpired) return page;
    const now = Date.now();
    return { ...page, data: page.data.filter((dataset) => dataset.expiryTime > now) };
  }

  get(datasetId: string, options?: RequestOptions): Promise<Dataset> {
    checkId('datasetId', datasetId);
    return this.transport.call(
      { method: 'GET', path: this.path('datasets', seg(datasetId)), schema: DatasetSchema, idempotent: true },
      options,
    );
  }

  delete(datasetId: string, options?: RequestOptions) {
    checkId('datasetId', datasetId);
    return this.transport.call(
      { method: 'DELETE', path: this.path('datasets', seg(datasetId)), schema: DeleteResponseSchema, idempotent: true },
      options,
    );
  }

  /** Polls until `Uploaded`; `FailedUpload` / `FailedProcessing` throw DatatureWaitError with the server's message. */
  waitUntilDone(datasetId: string, options: WaitOptions = {}): Promise<Dataset> {
    return pollUntil(
      `dataset ${datasetId}`,
      async () => {
        const dataset = await this.get(datasetId, { signal: options.signal });
        const { overview, message } = dataset.status;
        const state = datasetState(overview);
        if (state === 'ready') return dataset;
        if (state === 'failed') {
          const stage = overview === 'FailedUpload' ? 'uploading' : 'processing';
          throw new DatatureWaitError(`Error ${stage} dataset ${datasetId}: ${message || overview}`);
        }
        return undefined;
      },
      { ...options, intervalMs: options.intervalMs ?? 5_000 },
    );
  }
}

/**
 * A file's bytes for the PUT in reused buffers (`fileChunks`), instead of a stream's fresh buffer per read
 * that V8 frees only once 64 MiB of them have piled up: about 30 MiB less RSS for a large upload.
 * Reusing a buffer is safe because undici writes an async-iterable body one chunk at a time and, when the
 * socket does not take a chunk at once, waits for it to drain before asking for the next (client-h1.js
 * `writeIterable`): a chunk is in the socket's queue at most until the next one is written. 8 buffers leave
 * 7 chunks of margin. Were that ever to change, the bytes the server receives would not match the CRC32C
 * it was given (the upload header `x-goog-hash`), so it refuses them rather than storing them.
 */
async function* uploadedFileChunks(
  path: string,
  onBytes: (sent: number) => void,
  onError: (err: unknown) => void,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  try {
    for await (const chunk of fileChunks(path, { chunkBytes: FILE_CHUNK_BYTES, buffers: 8 })) {
      sent += chunk.length;
      onBytes(sent);
      yield chunk;
    }
  } catch (err) {
    onError(err);
    throw err;
  }
}

/**
 * The API returns a name -> value map (sent as-is). The docs example shows a list of names instead; for
 * that form the values this client can know are filled in and names it cannot know are left out.
 */
export function uploadHeaders(headers: UploadHeaders, described: NdjsonDescription): Record<string, string> {
  const known: Record<string, string> = {
    'content-length': String(described.sizeBytes),
    'content-type': NDJSON_CONTENT_TYPE,
    'x-goog-hash': `crc32c=${described.crc32c}`,
  };
  const result: Record<string, string> = Array.isArray(headers)
    ? Object.fromEntries(
        headers.map((name) => name.toLowerCase()).flatMap((name) => (name in known ? [[name, known[name]]] : [])),
      )
    : { ...headers };
  // A streamed body without content-length would be sent chunked, which signed URLs reject.
  if (!Object.keys(result).some((name) => name.toLowerCase() === 'content-length')) {
    result['content-length'] = known['content-length'];
  }
  return result;
}

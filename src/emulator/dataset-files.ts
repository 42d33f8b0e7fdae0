// Receives a dataset's NDJSON upload (streamed to disk while hashed) and turns it into dataset items.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Crc32c } from '../datature-api/crc32c';
import type { Clock } from './clock';
import type { Faults } from './faults';
import type { Store } from './store';
import type { UploadSigner } from './upload-url';

// Items are inserted in batches bounded by count and by bytes, so memory stays flat whatever the file size.
const ITEM_BATCH = 1000;
const ITEM_BATCH_BYTES = 4 * 1024 * 1024;

/** Answers like Google Cloud Storage does: an XML `<Error>` with a Code and a Message. */
function sendGcsError(res: ServerResponse, status: number, code: string, message: string) {
  const body = `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml; charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export class DatasetFiles {
  /** Uploads being received and files being processed, awaited by `close`. */
  private readonly busy = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly signer: UploadSigner,
    private readonly dataDir: string,
    private readonly faults?: Faults,
  ) {}

  private filePath(datasetId: string): string {
    return join(this.dataDir, `${datasetId}.ndjson`);
  }

  /** PUT /_uploads/{datasetId}?expires=&signature= */
  handleUpload(req: IncomingMessage, res: ServerResponse, datasetId: string, search: URLSearchParams): Promise<void> {
    return this.track(this.receive(req, res, datasetId, search));
  }

  private async receive(req: IncomingMessage, res: ServerResponse, datasetId: string, search: URLSearchParams) {
    const discardBody = () => req.resume();
    if (req.method !== 'PUT' || !this.signer.verify(datasetId, search.get('expires'), search.get('signature'))) {
      discardBody();
      return sendGcsError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match.');
    }
    if (Number(search.get('expires')) < this.clock.now()) {
      discardBody();
      return sendGcsError(res, 400, 'ExpiredToken', 'The provided token has expired.');
    }
    const dataset = this.store.datasetById(datasetId);
    if (!dataset) {
      discardBody();
      return sendGcsError(res, 404, 'NoSuchUpload', 'The dataset of this upload URL no longer exists.');
    }
    const declaredLength = req.headers['content-length'];
    const declaredHash = req.headers['x-goog-hash'];
    if (
      declaredLength !== String(dataset.size_bytes) ||
      (declaredHash && declaredHash !== `crc32c=${dataset.crc32c}`)
    ) {
      discardBody();
      return sendGcsError(
        res,
        403,
        'SignatureDoesNotMatch',
        'The content-length or x-goog-hash header differs from the signed upload.',
      );
    }
    if (dataset.overview !== 'Waiting') {
      discardBody();
      return sendGcsError(
        res,
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold.',
      );
    }
    this.store.setDatasetStatus(datasetId, 'Uploading', 'Uploading Dataset', this.clock.now());
    const partPath = `${this.filePath(datasetId)}.part`;
    const hash = new Crc32c();
    let received = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(req, hashing, createWriteStream(partPath));
    } catch {
      await rm(partPath, { force: true });
      this.store.setDatasetStatus(datasetId, 'Waiting', 'Upload interrupted; upload again', this.clock.now());
      return;
    }
    if (received !== dataset.size_bytes || hash.base64() !== dataset.crc32c) {
      await rm(partPath, { force: true });
      this.store.setDatasetStatus(datasetId, 'Waiting', 'Upload rejected; upload again', this.clock.now());
      return sendGcsError(res, 400, 'BadDigest', 'The CRC32C you specified did not match what we received.');
    }
    await rename(partPath, this.filePath(datasetId));
    this.store.setDatasetStatus(datasetId, 'Processing', 'Processing Dataset', this.clock.now());
    res.writeHead(200, { 'x-goog-hash': `crc32c=${dataset.crc32c}`, 'content-length': 0 });
    res.end();
    this.startProcessing(datasetId);
  }

  /** After a restart: an interrupted upload may be retried, an interrupted processing is redone. */
  async recover(): Promise<void> {
    for (const dataset of this.store.datasetsInState('Uploading')) {
      await rm(`${this.filePath(dataset.id)}.part`, { force: true });
      this.store.setDatasetStatus(dataset.id, 'Waiting', 'Upload interrupted; upload again', this.clock.now());
    }
    for (const dataset of this.store.datasetsInState('Processing')) this.startProcessing(dataset.id);
  }

  async remove(datasetId: string): Promise<void> {
    this.store.deleteDatasetItems(datasetId);
    await rm(this.filePath(datasetId), { force: true });
  }

  /** Stops processing (an unfinished dataset stays Processing and is redone on the next start). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(this.busy);
  }

  private track(work: Promise<void>): Promise<void> {
    const tracked = work.finally(() => this.busy.delete(tracked));
    this.busy.add(tracked);
    return tracked;
  }

  private startProcessing(datasetId: string): void {
    this.track(this.process(datasetId)).catch((error) => console.error('emulator: dataset processing failed', error));
  }

  private async process(datasetId: string): Promise<void> {
    this.store.deleteDatasetItems(datasetId);
    const input = createReadStream(this.filePath(datasetId));
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let lineNumber = 0;
    let itemCount = 0;
    let batch: DatasetItem[] = [];
    let batchBytes = 0;
    let failure: string | undefined;
    try {
      for await (const line of lines) {
        lineNumber += 1;
        if (line.trim() === '') continue;
        const parsed = parseItem(line);
        if (typeof parsed === 'string') {
          failure = `line ${lineNumber}: ${parsed}`;
          break;
        }
        batch.push(parsed);
        batchBytes += line.length;
        if (batch.length === ITEM_BATCH || batchBytes >= ITEM_BATCH_BYTES) {
          if (this.closing || !this.store.datasetById(datasetId)) return;
          this.store.insertDatasetItems(datasetId, itemCount, batch);
          itemCount += batch.length;
          batch = [];
          batchBytes = 0;
          await yieldToEventLoop();
        }
      }
    } finally {
      input.destroy();
    }
    if (!this.store.datasetById(datasetId)) return;
    if (!failure && batch.length > 0) {
      this.store.insertDatasetItems(datasetId, itemCount, batch);
      itemCount += batch.length;
    }
    if (!failure && itemCount === 0) failure = 'the file holds no items';
    if (!failure && this.faults?.processingFails()) failure = 'injected processing failure';
    await rm(this.filePath(datasetId), { force: true });
    if (failure) {
      this.store.deleteDatasetItems(datasetId);
      this.store.setDatasetStatus(datasetId, 'FailedProcessing', failure, this.clock.now(), 0);
    } else {
      this.store.setDatasetStatus(datasetId, 'Uploaded', 'Uploaded Dataset', this.clock.now(), itemCount);
    }
  }
}

interface DatasetItem {
  kind: string;
  url: string;
}

/** The item of one NDJSON line `{"kind":"Image","url":"http(s)://..."}`, or why the line is not one. */
function parseItem(line: string): DatasetItem | string {
  let item: unknown;
  try {
    item = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not a JSON object';
  const { kind, url } = item as { kind?: unknown; url?: unknown };
  if (kind !== 'Image') return `kind must be "Image", got ${JSON.stringify(kind ?? null)}`;
  if (typeof url !== 'string') return 'url must be a string';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'url must be http or https';
  } catch {
    return 'url is not a valid URL';
  }
  return { kind, url };
}

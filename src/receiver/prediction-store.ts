// The append-only NDJSON file of accepted predictions. An acknowledged prediction must survive a
// kill -9, so every append is fdatasync'ed before its promise resolves; concurrent appends share one
// write + one sync (group commit) so durability does not cost one disk flush per delivery.
import { type FileHandle, open } from 'node:fs/promises';
import type { ItemPredictedDelivery } from '../webhook-delivery';

export interface StoredPrediction {
  deliveryId: string;
  jobId: string;
  datasetId: string;
  item: ItemPredictedDelivery['item'];
  predictions: ItemPredictedDelivery['predictions'];
  receivedAt: string;
}

type AppendOutcome = 'stored' | 'duplicate';

interface PendingAppend {
  record: StoredPrediction;
  settle: (error?: unknown) => void;
}

export class PredictionStore {
  private readonly stored = new Set<string>();
  private readonly perJob = new Map<string, number>();
  /** Appends written but not yet synced, by delivery id: a redelivery waits for the same flush. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly file: FileHandle,
    /** Bytes known to end on a complete, synced line: a failed write is truncated back to it. */
    private committedBytes: number,
  ) {}

  /** Opens (or creates) the file and rebuilds the delivery-id index from it, streaming (never the whole file in memory). */
  static async open(path: string): Promise<PredictionStore> {
    const file = await open(path, 'a+');
    try {
      const store = new PredictionStore(file, 0);
      let lineNumber = 0;
      let completeBytes = 0;
      let tail = '';
      for await (const chunk of file.createReadStream({ start: 0, autoClose: false, encoding: 'utf8' })) {
        const lines = (tail + chunk).split('\n');
        tail = lines.pop() ?? '';
        for (const line of lines) {
          lineNumber++;
          completeBytes += Buffer.byteLength(line) + 1;
          if (line.trim() !== '') store.index(parseStoredLine(line, path, lineNumber));
        }
      }
      // A line without its newline can only be an append that was never acknowledged (killed
      // mid-write): drop it so the next append does not glue onto it.
      if (tail !== '') {
        await file.truncate(completeBytes);
        await file.datasync();
      }
      store.committedBytes = completeBytes;
      return store;
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  get total(): number {
    return this.stored.size;
  }

  countFor(jobId: string): number {
    return this.perJob.get(jobId) ?? 0;
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.perJob);
  }

  /** Resolves once the record is durable on disk (or was already stored under the same delivery id). */
  async append(record: StoredPrediction): Promise<AppendOutcome> {
    if (this.stored.has(record.deliveryId)) return 'duplicate';
    const pending = this.inFlight.get(record.deliveryId);
    if (pending) {
      await pending;
      return 'duplicate';
    }
    const durable = new Promise<void>((resolve, reject) => {
      this.queue.push({ record, settle: (error) => (error ? reject(error) : resolve()) });
    });
    this.inFlight.set(record.deliveryId, durable);
    this.flushing ??= this.flushQueue();
    try {
      await durable;
      return 'stored';
    } finally {
      this.inFlight.delete(record.deliveryId);
    }
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    await this.flushing;
    await this.file.close();
  }

  private async flushQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const bytes = Buffer.from(batch.map(({ record }) => `${JSON.stringify(record)}\n`).join(''), 'utf8');
      try {
        // A write may be cut short (disk or file-size limit reached): write the rest, which then
        // fails for real, rather than acknowledge a torn line.
        for (let written = 0; written < bytes.length; ) {
          const { bytesWritten } = await this.file.write(bytes, written, bytes.length - written, null);
          if (bytesWritten === 0) throw new Error('write made no progress');
          written += bytesWritten;
        }
        await this.file.datasync();
        this.committedBytes += bytes.length;
        for (const { record } of batch) this.index(record);
        for (const { settle } of batch) settle();
      } catch (error) {
        await this.file.truncate(this.committedBytes).catch(() => undefined);
        for (const { settle } of batch) settle(error);
      }
    }
    this.flushing = undefined;
  }

  private index(record: Pick<StoredPrediction, 'deliveryId' | 'jobId'>): void {
    if (this.stored.has(record.deliveryId)) return;
    this.stored.add(record.deliveryId);
    this.perJob.set(record.jobId, (this.perJob.get(record.jobId) ?? 0) + 1);
  }
}

function parseStoredLine(
  line: string,
  path: string,
  lineNumber: number,
): Pick<StoredPrediction, 'deliveryId' | 'jobId'> {
  try {
    const { deliveryId, jobId } = JSON.parse(line) as Partial<StoredPrediction>;
    // Only the two ids are kept: the index must not hold every stored prediction in memory.
    if (typeof deliveryId === 'string' && typeof jobId === 'string') return { deliveryId, jobId };
  } catch {
    // reported below with the line number
  }
  throw new Error(`${path}:${lineNumber} is not a stored prediction line; refusing to append to a foreign file`);
}

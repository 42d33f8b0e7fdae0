// Runs one job's items through gather -> preprocess -> predict -> deliver with bounded concurrency.
// Outcomes are buffered and written in batches (one transaction per flush) so 10k items stay fast;
// an item's counters, its log entry and the job cursor are written together, so after a crash the
// items in flight are redone without being counted twice.
import { once, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import { countersOfItemEnd, type ItemStatus } from '../datature-api/status-rules';
import type { ItemPredictedDelivery } from '../webhook-delivery';
import type { Clock } from './clock';
import { emulatedPredictions } from './emulated-model';
import type { Faults } from './faults';
import { itemDeliveryId, newLogEntryId } from './ids';
import { sniffImage } from './image-sniff';
import {
  COUNTER_NAMES,
  type CounterName,
  type Counters,
  type JobRow,
  type LogRow,
  type Store,
  zeroCounters,
} from './store';
import { deliverWithRetries } from './webhook-sender';

const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

interface RunnerSettings {
  store: Store;
  clock: Clock;
  faults: Faults;
  dispatcher: Dispatcher;
  concurrency: number;
  gatherTimeoutMs: number;
  modelLatencyMs: number;
  deliveryBaseBackoffMs: number;
  deliveryTimeoutMs: number;
}

class ItemFailure extends Error {
  constructor(
    readonly status: ItemStatus,
    reason: string,
  ) {
    super(reason);
  }
}

function addCounters(target: Counters, delta: Partial<Counters>, sign = 1) {
  for (const name of COUNTER_NAMES) target[name] += sign * (delta[name] ?? 0);
}

export class JobRunner {
  private cursor: number;
  private readonly redo: number[];
  private readonly inFlight = zeroCounters();
  private readonly pending = zeroCounters();
  private pendingLogs: LogRow[] = [];
  private seq: number;
  private lastCreateTime: number;
  private stopping = false;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    private readonly job: JobRow,
    private readonly itemCount: number,
    private readonly settings: RunnerSettings,
  ) {
    const { store } = settings;
    // Every in-flight request and sleep listens on this one signal.
    setMaxListeners(0, this.abort.signal);
    this.cursor = job.cursor;
    const logged = store.loggedItemIndexes(job.id, job.cursor);
    this.redo = [];
    for (let idx = 0; idx < job.cursor; idx++) if (!logged.has(idx)) this.redo.push(idx);
    const last = store.lastLog(job.id);
    this.seq = last?.seq ?? 0;
    this.lastCreateTime = last?.create_time ?? 0;
    this.done = Promise.all(Array.from({ length: settings.concurrency }, () => this.workLoop())).then(() => {});
  }

  /** Counters of items not yet written to the database (in flight or awaiting the next flush). */
  liveCounters(): Counters {
    const live = zeroCounters();
    addCounters(live, this.inFlight);
    addCounters(live, this.pending);
    return live;
  }

  /** Stop taking new items; items in flight finish. */
  stop(): void {
    this.stopping = true;
  }

  /** Abandon in-flight items (emulator shutdown); they are redone on the next start. */
  abandon(): void {
    this.stopping = true;
    this.abort.abort();
  }

  get accountedFor(): boolean {
    return this.cursor >= this.itemCount && this.redo.length === 0;
  }

  /** Writes buffered outcomes: log entries, counters and cursor in one transaction. */
  flush(): void {
    const logs = this.pendingLogs;
    if (logs.length === 0) return;
    const delta = { ...this.pending };
    this.pendingLogs = [];
    addCounters(this.pending, delta, -1);
    const { store, clock } = this.settings;
    store.transaction(() => {
      const row = store.jobById(this.job.id);
      if (!row) return;
      const counters = JSON.parse(row.counters) as Counters;
      addCounters(counters, delta);
      store.insertLogs(logs);
      const now = clock.now();
      store.updateJob(this.job.id, {
        counters: JSON.stringify(counters),
        // Items below the cursor are logged or, after a crash, found unlogged and redone.
        cursor: this.cursor,
        status_date: now,
        update_date: now,
      });
    });
  }

  private nextIndex(): number | undefined {
    if (this.stopping) return undefined;
    if (this.redo.length > 0) return this.redo.shift();
    if (this.cursor < this.itemCount) return this.cursor++;
    return undefined;
  }

  private async workLoop(): Promise<void> {
    for (let idx = this.nextIndex(); idx !== undefined; idx = this.nextIndex()) {
      await this.processItem(idx);
    }
  }

  private bump(itemDelta: Partial<Counters>, name: CounterName) {
    itemDelta[name] = (itemDelta[name] ?? 0) + 1;
    this.inFlight[name] += 1;
  }

  private async processItem(idx: number): Promise<void> {
    const { store } = this.settings;
    const item = store.datasetItem(this.job.dataset_id, idx);
    if (!item) return;
    const started = performance.now();
    const itemDelta: Partial<Counters> = {};
    let status: ItemStatus = 'Delivered';
    let reason = '';
    try {
      const image = await this.gather(item.url);
      this.bump(itemDelta, 'Gathered');
      if (!sniffImage(image)) throw new ItemFailure('FailedProcess', 'not a PNG, JPEG or WebP image');
      this.bump(itemDelta, 'Preprocessed');
      const predictions = await this.predict(image, item.url);
      this.bump(itemDelta, 'Predicted');
      reason = await this.deliver(item, predictions);
    } catch (error) {
      if (this.abort.signal.aborted) {
        addCounters(this.inFlight, itemDelta, -1);
        return;
      }
      if (!(error instanceof ItemFailure)) throw error;
      status = error.status;
      reason = error.message;
    }
    addCounters(this.inFlight, itemDelta, -1);
    addCounters(this.pending, itemDelta);
    addCounters(this.pending, countersOfItemEnd(status));
    // The real finishing millisecond, many entries per millisecond when items finish together, as a real
    // server stamps them (logs paging must cope: see allLogs); never before an earlier entry of the job,
    // even if the emulator's clock is set back, so (createTime, seq) orders entries newest first.
    this.lastCreateTime = Math.max(this.settings.clock.now(), this.lastCreateTime);
    this.seq += 1;
    this.pendingLogs.push({
      job_id: this.job.id,
      seq: this.seq,
      id: newLogEntryId(),
      item_index: idx,
      create_time: this.lastCreateTime,
      level: status === 'Delivered' ? 'Info' : 'Error',
      item: item.url,
      status,
      time_ms: Math.round((performance.now() - started) * 1000) / 1000,
      reason,
    });
  }

  private async gather(url: string): Promise<Buffer> {
    const { faults, gatherTimeoutMs, dispatcher } = this.settings;
    if (faults.gatherFails()) throw new ItemFailure('FailedGather', 'injected gather failure');
    const flaky = faults.flakyItemFails(url, 'gather');
    if (flaky.fails)
      throw new ItemFailure('FailedGather', `GET ${url} failed: injected flaky item (attempt ${flaky.attempt})`);
    // A held item waits outside its gather timeout; closing the emulator ends the wait (the GET then aborts).
    const hold = faults.gatherHold();
    if (hold && !this.abort.signal.aborted) await Promise.race([hold, once(this.abort.signal, 'abort')]);
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(gatherTimeoutMs)]);
    try {
      // Injected slowness counts against the gather timeout, like a slow item server would.
      const latency = faults.gatherLatencyMs();
      if (latency > 0) await sleep(latency, undefined, { signal });
      const response = await request(url, { method: 'GET', dispatcher, signal });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        throw new ItemFailure('FailedGather', `GET ${url} answered HTTP ${response.statusCode}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_IMAGE_BYTES) {
          response.body.destroy();
          throw new ItemFailure('FailedGather', `GET ${url} is larger than ${MAX_IMAGE_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    } catch (error) {
      if (error instanceof ItemFailure || this.abort.signal.aborted) throw error;
      const timedOut = signal.aborted;
      throw new ItemFailure(
        'FailedGather',
        timedOut
          ? `GET ${url} timed out after ${gatherTimeoutMs} ms`
          : `GET ${url} failed: ${(error as Error).message}`,
      );
    }
  }

  private async predict(image: Buffer, url: string) {
    const { modelLatencyMs, faults } = this.settings;
    if (modelLatencyMs > 0) await sleep(modelLatencyMs, undefined, { signal: this.abort.signal });
    if (faults.predictionFails()) throw new ItemFailure('FailedPredict', 'injected prediction failure');
    const flaky = faults.flakyItemFails(url, 'predict');
    if (flaky.fails) {
      throw new ItemFailure('FailedPredict', `prediction failed: injected flaky item (attempt ${flaky.attempt})`);
    }
    return emulatedPredictions(image);
  }

  /** Delivers to every destination; returns the log reason (retries, if any), throws FailedDeliver. */
  private async deliver(
    item: { idx: number; kind: string; url: string },
    predictions: ItemPredictedDelivery['predictions'],
  ) {
    const { store, clock, dispatcher, deliveryBaseBackoffMs, deliveryTimeoutMs, faults } = this.settings;
    // A flaky delivery fails before anything is sent: the receiver never sees the item from this job.
    const flaky = faults.flakyItemFails(item.url, 'deliver');
    if (flaky.fails) {
      throw new ItemFailure('FailedDeliver', `webhook delivery failed: injected flaky item (attempt ${flaky.attempt})`);
    }
    const notes: string[] = [];
    for (const destination of JSON.parse(this.job.destinations) as { webhookId: string }[]) {
      const webhook = store.webhookById(destination.webhookId);
      if (!webhook) throw new ItemFailure('FailedDeliver', `webhook ${destination.webhookId} no longer exists`);
      const deliveryId = itemDeliveryId(this.job.id, item.idx, webhook.id);
      const payload: ItemPredictedDelivery = {
        type: 'batch.item.predicted',
        deliveryId,
        projectId: this.job.project_id,
        jobId: this.job.id,
        datasetId: this.job.dataset_id,
        item: { kind: item.kind, url: item.url },
        predictions,
        emulated: true,
        createTime: clock.now(),
      };
      const outcome = await deliverWithRetries(
        {
          endpoint: webhook.endpoint,
          secret: webhook.secret,
          maxRetries: webhook.max_retries,
          maxBackoffMs: webhook.max_backoff_ms,
        },
        deliveryId,
        Buffer.from(JSON.stringify(payload)),
        { dispatcher, baseBackoffMs: deliveryBaseBackoffMs, timeoutMs: deliveryTimeoutMs, signal: this.abort.signal },
      );
      const failures = outcome.attempts.filter((attempt) => !attempt.ok).map((attempt) => attempt.reason);
      if (!outcome.ok) {
        throw new ItemFailure(
          'FailedDeliver',
          `webhook ${webhook.id}: ${outcome.attempts.length} attempts failed (${failures.join(', ')})`,
        );
      }
      if (failures.length > 0) {
        notes.push(
          `webhook ${webhook.id}: delivered on attempt ${outcome.attempts.length} after ${failures.join(', ')}`,
        );
      }
    }
    return notes.join('; ');
  }
}

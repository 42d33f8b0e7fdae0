// Streams a job's failed items out of its logs, never holding them whole: those to try again go to the next
// round's dataset file, the others are added to the run's `<run>.failed.ndjson` (item lines, so the file
// can be run again) and its reasons sidecar. Both run files are cut back to the lengths the workflow says the
// rounds before left, so a retried attempt (any worker, any time) writes each item once.

import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type DatatureClient, isFailedItemEntry, NewestFirstLogCursor, validateNdjson } from '../datature-api';
import { type CollectFailedItemsRequest, type FailedItemsCollected, failedAfter } from '../workflows/failed-items';
import { FailureType } from '../workflows/failures';
import { insideLogsDirectory } from './collect-logs';
import { mapped } from './error-mapping';

/** Lines written per batch: one API page of entries (heartbeats are throttled by the SDK: one per entry is cheap). */
const FLUSH_EVERY = 1000;

/** An append-only NDJSON file written in batches from a known length. */
class LineFile {
  private pending: string[] = [];

  private constructor(
    readonly filePath: string,
    private readonly handle: FileHandle,
    public bytes: number,
  ) {}

  static async from(filePath: string, bytes: number): Promise<LineFile> {
    const handle = await open(filePath, bytes > 0 ? 'r+' : 'w').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      // Written by an earlier round on another machine: retrying here would not find it either.
      throw ApplicationFailure.nonRetryable(
        `${filePath}, written by an earlier round, is missing on this worker: workers on several machines need ` +
          'a logs directory they share (DATATURE_LOGS_DIR) for retry rounds',
        FailureType.SourceUnreadable,
      );
    });
    await handle.truncate(bytes);
    return new LineFile(filePath, handle, bytes);
  }

  add(line: object): void {
    this.pending.push(`${JSON.stringify(line)}\n`);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    await this.handle.write(chunk, this.bytes);
    this.bytes += Buffer.byteLength(chunk);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }
}

export async function collectFailedItems(
  datatureApi: DatatureClient,
  logsDirectory: string,
  request: CollectFailedItemsRequest,
): Promise<FailedItemsCollected> {
  const context = Context.current();
  const directory = insideLogsDirectory(logsDirectory, request.directory);
  await mkdir(directory, { recursive: true });
  const failed = await LineFile.from(join(directory, request.failed.fileName), request.failed.bytes);
  const reasons = await LineFile.from(join(directory, request.failed.reasonsFileName), request.failed.reasonsBytes);
  const retry = request.retry ? await LineFile.from(join(directory, request.retry.fileName), 0) : undefined;
  const retried = new Set(request.retry?.statuses ?? []);
  const files = [failed, reasons, ...(retry ? [retry] : [])];
  const byStatus: Record<string, number> = {};
  let added = 0;
  let retryCount = 0;
  try {
    await mapped(async () => {
      const cursor = new NewestFirstLogCursor();
      // Failed items log at level Error: the delivered ones (most of a job) are not even read.
      const entries = datatureApi.jobs.allLogs(
        request.jobId,
        { minLevel: 'Error' },
        { signal: context.cancellationSignal },
      );
      let sinceFlush = 0;
      for await (const entry of entries) {
        if (!cursor.admit(entry) || !isFailedItemEntry(entry)) continue;
        byStatus[entry.status] = (byStatus[entry.status] ?? 0) + 1;
        const item = { kind: 'Image', url: entry.item };
        if (retry && retried.has(entry.status)) {
          retry.add(item);
          retryCount++;
        } else {
          failed.add(item);
          reasons.add({
            url: entry.item,
            status: entry.status,
            reason: entry.reason ?? '',
            outcome: failedAfter(request.round),
            jobId: request.jobId,
          });
          added++;
        }
        heartbeat({ entries: added + retryCount });
        if (++sinceFlush >= FLUSH_EVERY) {
          sinceFlush = 0;
          for (const file of files) await file.flush();
        }
      }
    });
  } finally {
    for (const file of files) await file.close();
  }
  const answer: FailedItemsCollected = {
    byStatus,
    failed: {
      filePath: failed.filePath,
      reasonsFilePath: reasons.filePath,
      bytes: failed.bytes,
      reasonsBytes: reasons.bytes,
      added,
    },
  };
  if (retry && retryCount > 0) {
    // Described as validateSource would (the upload checks the bytes against it): one more pass over a small file.
    const { itemCount, sizeBytes, crc32c } = await validateNdjson(retry.filePath);
    answer.retry = { filePath: retry.filePath, itemCount, sizeBytes, crc32c };
  }
  return answer;
}

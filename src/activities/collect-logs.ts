// Streams every log entry of a job to an NDJSON file. The heartbeat carries a resumable cursor (the file's
// length, the oldest createTime written and the ids written at that time, the summary so far), so a retry
// on any worker truncates the partial tail and continues where the last heartbeat left off: no duplicates.

import { mkdir, open } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type DatatureClient,
  isFailedItemEntry,
  type JobLogEntry,
  type LogCursorState,
  NewestFirstLogCursor,
} from '../datature-api';
import type { CollectLogsRequest } from '../workflows/activity-contract';
import type { LogsSummary } from '../workflows/definitions';
import { FailureType } from '../workflows/failures';
import { mapped } from './error-mapping';

const FIRST_FAILURES = 10;
/** Entries written between two heartbeats (one API page). */
const FLUSH_EVERY = 1000;

interface LogCursor extends LogCursorState {
  bytes: number;
  summary: Omit<LogsSummary, 'filePath'>;
}

function emptyCursor(): LogCursor {
  return { bytes: 0, idsAtOldestTime: [], summary: { entries: 0, byStatus: {}, byLevel: {}, firstFailures: [] } };
}

/** Callers in other languages skip the input schema: the folder is checked again where it is used. */
export function insideLogsDirectory(logsDirectory: string, folder = ''): string {
  const root = resolve(logsDirectory);
  const directory = resolve(root, folder);
  const fromRoot = relative(root, directory);
  if (isAbsolute(folder) || fromRoot.startsWith('..') || isAbsolute(fromRoot)) {
    throw ApplicationFailure.nonRetryable(
      `logs.directory ${folder} is outside the worker's logs directory`,
      FailureType.InvalidLogsDirectory,
    );
  }
  return directory;
}

export async function collectLogs(
  datatureApi: DatatureClient,
  defaultDirectory: string,
  request: CollectLogsRequest,
): Promise<LogsSummary> {
  const context = Context.current();
  const directory = insideLogsDirectory(defaultDirectory, request.directory);
  const filePath = join(directory, request.fileName);
  const cursor = (context.info.heartbeatDetails as LogCursor | undefined) ?? emptyCursor();
  await mkdir(directory, { recursive: true });
  const file = await open(filePath, cursor.bytes > 0 ? 'r+' : 'w');
  try {
    await file.truncate(cursor.bytes);
    const read = new NewestFirstLogCursor(cursor);
    const beforeTime = read.resumeBeforeTime;
    let pending: string[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const chunk = pending.join('');
      pending = [];
      await file.write(chunk, cursor.bytes);
      cursor.bytes += Buffer.byteLength(chunk);
      Object.assign(cursor, read.state());
      heartbeat(structuredClone(cursor));
    };
    await mapped(async () => {
      const entries = datatureApi.jobs.allLogs(
        request.jobId,
        {
          beforeTime,
          minLevel: request.minLevel,
          onPartialMillisecond: (time) => {
            cursor.summary.partialMilliseconds = [...(cursor.summary.partialMilliseconds ?? []), time];
          },
        },
        { signal: context.cancellationSignal },
      );
      for await (const entry of entries) {
        if (!read.admit(entry)) continue;
        pending.push(JSON.stringify(entry) + '\n');
        count(cursor.summary, entry);
        if (pending.length >= FLUSH_EVERY) await flush();
      }
    });
    await flush();
  } finally {
    await file.close();
  }
  return { filePath, ...cursor.summary };
}

function count(summary: LogCursor['summary'], entry: JobLogEntry): void {
  summary.entries += 1;
  summary.byStatus[entry.status] = (summary.byStatus[entry.status] ?? 0) + 1;
  summary.byLevel[entry.level] = (summary.byLevel[entry.level] ?? 0) + 1;
  if (isFailedItemEntry(entry) && summary.firstFailures.length < FIRST_FAILURES) {
    summary.firstFailures.push({ item: entry.item, status: entry.status, level: entry.level, reason: entry.reason });
  }
}

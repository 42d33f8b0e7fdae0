import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

/** Streams log entries as NDJSON (one entry per line) to a file or stdout; returns how many were written. */
export async function writeLogEntries(entries: AsyncIterable<unknown>, outputPath?: string): Promise<number> {
  const sink: Writable = outputPath ? createWriteStream(outputPath) : process.stdout;
  let count = 0;
  for await (const entry of entries) {
    if (!sink.write(JSON.stringify(entry) + '\n')) await once(sink, 'drain');
    count += 1;
  }
  if (outputPath) {
    sink.end();
    await once(sink, 'finish');
  }
  return count;
}

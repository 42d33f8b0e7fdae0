// The log flags and the log streaming shared by `jobs logs` and `logs` (a run's job).
import type { Command } from 'commander';
import { datatureApiFor } from './api-client';
import { parseIntFlag, parseTimeFlag } from './config';
import { writeLogEntries } from './log-writer';

export interface LogFlags {
  level?: string;
  maxEntries?: number;
  since?: string;
  until?: string;
  output?: string;
}

export function withLogFlags(command: Command): Command {
  return command
    .option('--level <level>', 'minimum level, e.g. Info or Error')
    .option('--max-entries <n>', 'stop after this many entries', parseIntFlag(1))
    .option('--since <time>', 'only entries after this time (ISO-8601)', parseTimeFlag)
    .option('--until <time>', 'only entries before this time (ISO-8601)', parseTimeFlag)
    .option('--output <file>', 'write to this file instead of stdout');
}

/** Streams every log entry of a job (newest first, all pages) to stdout or `--output`. */
export async function streamJobLogs(command: Command, jobId: string, flags: LogFlags): Promise<number> {
  const entries = datatureApiFor(command).jobs.allLogs(jobId, {
    minLevel: flags.level,
    maxEntries: flags.maxEntries,
    afterTime: flags.since ? Date.parse(flags.since) : undefined,
    beforeTime: flags.until ? Date.parse(flags.until) : undefined,
    // Always said, even with --json: the output is incomplete.
    onPartialMillisecond: (time) =>
      process.stderr.write(
        `warning: more than one page of entries at ${new Date(time).toISOString()} and the server cannot page inside one millisecond: some entries of that millisecond are missing\n`,
      ),
  });
  return writeLogEntries(entries, flags.output);
}

import type { Command } from 'commander';
import type { GlobalOptions } from './config';
import { redactSecrets } from './secrets';

/** Where a command writes: machine-readable JSON on stdout with --json, text otherwise; diagnostics on stderr. */
export class Output {
  constructor(
    readonly json: boolean,
    readonly verbose: boolean,
  ) {}

  static of(command: Command): Output {
    const opts = command.optsWithGlobals<GlobalOptions>();
    return new Output(Boolean(opts.json), Boolean(opts.verbose));
  }

  /** The command's result: `data` as JSON with --json, else the human text. */
  result(data: unknown, human: () => string): void {
    const text = this.json ? JSON.stringify(data, null, 2) : human();
    process.stdout.write(redactSecrets(text) + '\n');
  }

  /** Progress and hints for people; silent with --json so stdout stays parseable and stderr quiet. */
  info(message: string): void {
    if (!this.json) process.stderr.write(redactSecrets(message) + '\n');
  }

  debug(message: string): void {
    if (this.verbose) process.stderr.write(redactSecrets(message) + '\n');
  }
}

/** Aligned columns for list output. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key: value` lines for a single object. */
export function fields(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) =>
        `${(key + ':').padEnd(width + 1)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
    )
    .join('\n');
}

/** The few stream members the renderer needs, so tests can pass a plain object. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export interface ProgressBarOptions {
  stream?: ProgressStream;
  /** Without a TTY, at most one line per this interval (plus the final one). */
  lineIntervalMs?: number;
  formatValue?: (value: number) => string;
}

const barWidth = 28;

/**
 * One progress bar for one phase. On a TTY the line is redrawn in place; otherwise (CI logs, pipes)
 * it degrades to a periodic plain line so logs stay readable.
 */
export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly lineIntervalMs: number;
  private readonly formatValue: (value: number) => string;
  private lastLineAt = 0;
  private lastLine = '';
  private finished = false;

  constructor(
    private readonly label: string,
    options: ProgressBarOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.lineIntervalMs = options.lineIntervalMs ?? 2000;
    this.formatValue = options.formatValue ?? String;
  }

  update(current: number, total: number | undefined, detail = ''): void {
    if (this.finished) return;
    const line = this.render(current, total, detail);
    if (this.stream.isTTY) {
      if (line !== this.lastLine) this.stream.write(`\r\x1b[2K${line}`);
    } else {
      const now = Date.now();
      if (now - this.lastLineAt < this.lineIntervalMs || line === this.lastLine) return;
      this.lastLineAt = now;
      this.stream.write(line + '\n');
    }
    this.lastLine = line;
  }

  /** Draws the final state once and ends the line. */
  finish(current: number, total: number | undefined, detail = ''): void {
    if (this.finished) return;
    const line = this.render(current, total, detail);
    this.stream.write(this.stream.isTTY ? `\r\x1b[2K${line}\n` : line + '\n');
    this.finished = true;
  }

  private render(current: number, total: number | undefined, detail: string): string {
    const counts =
      total === undefined ? this.formatValue(current) : `${this.formatValue(current)}/${this.formatValue(total)}`;
    const suffix = detail ? ` ${detail}` : '';
    if (!total) return `${this.label.padEnd(10)} ${counts}${suffix}`;
    const ratio = Math.min(1, Math.max(0, current / total));
    const filled = Math.round(ratio * barWidth);
    const bar = '#'.repeat(filled) + '-'.repeat(barWidth - filled);
    const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
    return `${this.label.padEnd(10)} [${bar}] ${percent} ${counts}${suffix}`;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The few stream members the renderer needs, so tests can pass a plain object. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): boolean;
}

export interface ProgressBoardOptions {
  stream?: ProgressStream;
  /** Without a TTY, at most one round of lines per this interval (plus the final one). */
  lineIntervalMs?: number;
}

interface BarState {
  current: number;
  total: number | undefined;
  formatValue: (value: number) => string;
}

const barWidth = 28;

/**
 * Progress bars, one line each (upload, gathered, predicted, ...). On a TTY the block is redrawn in
 * place; otherwise (CI logs, pipes) it degrades to plain lines, only for bars that changed, at most
 * once per interval, so logs stay readable.
 */
export class ProgressBoard {
  private readonly stream: ProgressStream;
  private readonly lineIntervalMs: number;
  private readonly bars = new Map<string, BarState>();
  private linesOnScreen = 0;
  private lastPrintAt = 0;
  private readonly lastPrinted = new Map<string, string>();

  constructor(options: ProgressBoardOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.lineIntervalMs = options.lineIntervalMs ?? 2000;
  }

  set(label: string, current: number, total: number | undefined, formatValue: (value: number) => string = String) {
    this.bars.set(label, { current, total, formatValue });
  }

  has(label: string): boolean {
    return this.bars.has(label);
  }

  /** Draws the bars; `final` forces the last state out (call it once, at the end). */
  render(final = false): void {
    const lines = [...this.bars].map(([label, bar]) => [label, renderBar(label, bar)] as const);
    if (this.stream.isTTY) {
      const up = this.linesOnScreen > 0 ? `\x1b[${this.linesOnScreen}A` : '';
      this.stream.write(up + lines.map(([, line]) => `\r\x1b[2K${line}\n`).join(''));
      this.linesOnScreen = lines.length;
      return;
    }
    const now = Date.now();
    if (!final && now - this.lastPrintAt < this.lineIntervalMs) return;
    const changed = lines.filter(([label, line]) => this.lastPrinted.get(label) !== line);
    if (changed.length === 0) return;
    this.lastPrintAt = now;
    for (const [label, line] of changed) this.lastPrinted.set(label, line);
    this.stream.write(changed.map(([, line]) => line + '\n').join(''));
  }
}

function renderBar(label: string, { current, total, formatValue }: BarState): string {
  const counts = total === undefined ? formatValue(current) : `${formatValue(current)}/${formatValue(total)}`;
  if (!total) return `${label.padEnd(10)} ${counts}`;
  const ratio = Math.min(1, Math.max(0, current / total));
  const filled = Math.round(ratio * barWidth);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${percent} ${counts}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

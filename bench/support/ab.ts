// The A/B harness every `npm run bench` bench uses: the baseline and the variants run in alternating
// rounds (round 1 A B C, round 2 C B A, ...) in the same run, so a drift of the shared machine affects all
// alike; the table prints the median of each figure and the ratio of each variant's medians to the
// baseline's. A bench file calls `runBench(...)`; `npm run bench` finds it by that call (see bench/run.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** `BENCH_QUICK=1` (or `--quick`): the small sizes, a few minutes for the whole run; default: the full sizes. */
export const QUICK = process.env.BENCH_QUICK === '1' || process.argv.includes('--quick');

/** Figures of one round of one variant: a number, or text (shown as is, e.g. "yes"). */
export type Figures = Record<string, number | string>;

export interface Variant {
  name: string;
  run(round: number): Promise<Figures>;
}

export interface Column {
  key: string;
  label: string;
  /** Digits after the point (default 1). */
  digits?: number;
  /** Prints `x<ratio>` against the baseline's median next to the value. */
  ratio?: boolean;
}

export interface BenchSpec {
  title: string;
  /** What was measured, printed under the title (sizes, settings). */
  setup: string;
  rounds: number;
  baseline: Variant;
  variants: Variant[];
  columns: Column[];
  /** Untimed work between two runs (e.g. deleting what the last one created). */
  betweenRuns?: () => Promise<void>;
  /** Lines printed under the table (goals, notes). */
  notes?: (medians: Map<string, Figures>) => string[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs the rounds, prints the markdown table, returns the medians per variant. */
export async function runBench(spec: BenchSpec): Promise<Map<string, Figures>> {
  const all = [spec.baseline, ...spec.variants];
  const results = new Map<string, Figures[]>(all.map((variant) => [variant.name, []]));
  for (let round = 0; round < spec.rounds; round++) {
    const order = round % 2 === 0 ? all : [...all].reverse();
    for (const variant of order) {
      const figures = await variant.run(round);
      results.get(variant.name)!.push(figures);
      process.stderr.write(
        `  [${spec.title}] round ${round + 1}/${spec.rounds} ${variant.name}: ${JSON.stringify(figures)}\n`,
      );
      await spec.betweenRuns?.();
    }
  }
  const medians = new Map<string, Figures>();
  for (const [name, rounds] of results) {
    const figures: Figures = {};
    for (const key of Object.keys(rounds[0] ?? {})) {
      const values = rounds.map((r) => r[key]);
      figures[key] = values.every((v) => typeof v === 'number')
        ? median(values as number[])
        : [...new Set(values)].join(' / ');
    }
    medians.set(name, figures);
  }
  const base = medians.get(spec.baseline.name)!;
  const cell = (figures: Figures, column: Column, isBase: boolean) => {
    const value = figures[column.key];
    if (typeof value !== 'number') return value ?? '';
    const text = value.toFixed(column.digits ?? 1);
    const against = base[column.key];
    if (!column.ratio || isBase || typeof against !== 'number' || against === 0) return text;
    return `${text} (x${(value / against).toFixed(2)})`;
  };
  const lines = [
    '',
    `### ${spec.title}`,
    '',
    `${spec.setup}; ${spec.rounds} round(s), alternated, medians; (xN) = ratio to the baseline.`,
    '',
    `| | ${spec.columns.map((column) => column.label).join(' | ')} |`,
    `|---|${spec.columns.map(() => '---').join('|')}|`,
    ...all.map(
      (variant, i) =>
        `| ${variant.name}${i === 0 ? ' (baseline)' : ''} | ${spec.columns
          .map((column) => cell(medians.get(variant.name)!, column, i === 0))
          .join(' | ')} |`,
    ),
  ];
  const notes = spec.notes?.(medians) ?? [];
  if (notes.length) lines.push('', ...notes);
  process.stdout.write(`${lines.join('\n')}\n`);
  return medians;
}

export interface Measured {
  code: number | null;
  wallS: number;
  /** Peak resident set of the process (VmHWM), MiB. */
  peakRssMiB: number;
  /** User + system CPU of the process, seconds. */
  cpuS: number;
  stdout: string;
  stderr: string;
}

const CLOCK_TICKS = 100;

/**
 * Spawns a command and measures it from /proc while it runs: VmHWM (the kernel's own peak RSS) and the
 * CPU ticks, read every 20 ms; the last reading before exit is kept (so up to 20 ms of the end is missed).
 */
export function measure(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Measured> {
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  let peakKiB = 0;
  let ticks = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks = Number(fields[11]) + Number(fields[12]);
    } catch {
      // Exited between two samples.
    }
  };
  const sampler = setInterval(sample, 20);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sampler);
      const wallS = (performance.now() - started) / 1000;
      child.once('close', () =>
        resolve({ code, wallS, peakRssMiB: peakKiB / 1024, cpuS: ticks / CLOCK_TICKS, stdout, stderr }),
      );
    });
  });
}

/** Throws with the command's output when it failed: a bench figure of a failed run means nothing. */
export function check(result: Measured, what: string): Measured {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stderr.slice(-2000)}`);
  return result;
}

/** Runs `main` when the file is run directly (`npx tsx bench/<name>.ts`), exiting 1 on failure. */
export function runIfMain(module: NodeModule, main: () => Promise<unknown>): void {
  if (require.main !== module) return;
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

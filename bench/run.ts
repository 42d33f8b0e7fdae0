// `npm run bench`: runs every A/B bench of this folder, one process each, one after the other, and prints
// their tables. A bench is a `bench/<name>.ts` that calls `runBench(` (bench/support/ab.ts), or whose header
// says `@bench` (a deterministic one, with its baselines computed in the same run, e.g. polling-cost); the
// older single-figure scripts beside them (emulator-throughput, receiver-*, upload-memory) are run by hand.
//   npm run bench                      every bench, full sizes (tens of minutes)
//   npm run bench -- --quick           small sizes (BENCH_QUICK=1), a few minutes
//   npm run bench -- upload logs       only these benches (by file name)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const only = args.filter((arg) => !arg.startsWith('--'));

/** Files of this folder that call runBench or say `@bench`, in name order. */
function discover(): string[] {
  return readdirSync(__dirname)
    .filter((name) => name.endsWith('.ts') && name !== 'run.ts')
    .filter((name) => {
      const text = readFileSync(join(__dirname, name), 'utf8');
      return text.includes('runBench(') || text.includes('@bench');
    })
    .map((name) => name.slice(0, -'.ts'.length))
    .filter((name) => only.length === 0 || only.includes(name));
}

async function main(): Promise<number> {
  const benches = discover();
  const unknown = only.filter((name) => !benches.includes(name));
  if (unknown.length) {
    console.error(`no bench named ${unknown.join(', ')} in bench/ (a bench calls runBench)`);
    return 2;
  }
  const failed: string[] = [];
  console.log(`# npm run bench${quick ? ' (quick)' : ''}: ${new Date().toISOString()}, node ${process.version}`);
  for (const name of benches) {
    process.stderr.write(`\n== ${name}\n`);
    const started = performance.now();
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', join(__dirname, `${name}.ts`)], {
      stdio: 'inherit',
      env: { ...process.env, ...(quick ? { BENCH_QUICK: '1' } : {}) },
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    process.stderr.write(
      `== ${name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
    );
    if (code !== 0) failed.push(name);
  }
  if (failed.length) console.error(`\nfailed: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then((code) => process.exit(code));

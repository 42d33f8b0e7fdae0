// The CLI (and the worker's modules) as an installed package runs them: the build (`npm run build`, dist/) next to a copy of bin/, with no
// TypeScript sources beside it, so bin/datature-batch.js loads the JavaScript and not the sources through tsx.
// Built once per bench run into a temporary folder; node_modules is this checkout's.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './processes';

export interface InstalledCli {
  /** Path of the copied bin/datature-batch.js. */
  bin: string;
  /** The build's folder (the package's dist/). */
  dist: string;
  remove(): void;
}

export function buildInstalledCli(): InstalledCli {
  const dir = mkdtempSync(join(tmpdir(), 'bench-installed-cli-'));
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  mkdirSync(join(dir, 'bin'));
  for (const file of ['datature-batch.js', 'tsx-lexer-ready.js'])
    copyFileSync(join(ROOT, 'bin', file), join(dir, 'bin', file));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return {
    bin: join(dir, 'bin', 'datature-batch.js'),
    dist: join(dir, 'dist'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { binPath, cleanEnv, spawnCli } from '../cli/run-cli';

export interface ChildReceiver {
  url: string;
  port: number;
  process: ChildProcess;
  /** kill -9 of its whole process group, and wait until the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM (a graceful stop), resolving with the exit code. */
  stop(): Promise<number | null>;
}

/** Every receiver process started by this test file and not yet seen to exit. */
const running = new Set<ChildProcess>();

/**
 * kill -9 of every receiver this file started that is still running, whatever the test did with
 * it (a test that fails half-way, or one that hands a receiver on to the next). Call it in `afterAll`:
 * a child left running keeps Jest's worker alive and, once Jest gives up on it, lives on orphaned.
 */
export async function crashAllChildReceivers(): Promise<void> {
  await Promise.all([...running].map((child) => killGroup(child, 'SIGKILL')));
}

/** Signals the child's process group (the CLI and anything it started), resolving when the child exited. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal); // no group (already reaped): the pid alone
  }
  return exited;
}

/** Runs `datature-batch --json receiver ...` as a user would, and waits for it to print its URL. */
export function startChildReceiver(options: {
  port: number;
  secretFile: string;
  outFile: string;
  /**
   * RLIMIT_FSIZE of the process (a multiple of 512: `ulimit -f` counts 512-byte blocks in sh): a write
   * past it fails with EFBIG (Node ignores SIGXFSZ), a disk-full-like failure of the receiver's append.
   */
  fileSizeLimitBytes?: number;
}): Promise<ChildReceiver> {
  const args = [
    '--json',
    'receiver',
    '--port',
    String(options.port),
    '--secret-file',
    options.secretFile,
    '--out',
    options.outFile,
  ];
  const child =
    options.fileSizeLimitBytes === undefined
      ? spawnCli(args, cleanEnv(), { ownProcessGroup: true })
      : spawn(
          '/bin/sh',
          [
            '-c',
            `ulimit -f ${Math.floor(options.fileSizeLimitBytes / 512)} && exec "$0" "$@"`,
            process.execPath,
            binPath,
            ...args,
          ],
          { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
        );
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code} before listening: ${errors}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      let printed: { url: string };
      try {
        printed = JSON.parse(output) as { url: string };
      } catch {
        return; // the JSON is not complete yet
      }
      resolve({
        url: printed.url,
        port: Number(new URL(printed.url).port),
        process: child,
        crash: async () => {
          await killGroup(child, 'SIGKILL');
        },
        stop: () => killGroup(child, 'SIGTERM'),
      });
    });
  });
}

import type { ChildProcess } from 'node:child_process';
import { cleanEnv, spawnCli } from '../cli/run-cli';

export interface ChildReceiver {
  url: string;
  port: number;
  process: ChildProcess;
  /** kill -9, and wait until the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM (a graceful stop), resolving with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `datature-batch --json receiver ...` as a user would, and waits for it to print its URL. */
export function startChildReceiver(options: {
  port: number;
  secretFile: string;
  outFile: string;
}): Promise<ChildReceiver> {
  const child = spawnCli(
    [
      '--json',
      'receiver',
      '--port',
      String(options.port),
      '--secret-file',
      options.secretFile,
      '--out',
      options.outFile,
    ],
    cleanEnv(),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
          child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ReceiverOptions } from '../../src/receiver';

export interface ChildReceiver {
  url: string;
  port: number;
  process: ChildProcess;
  /** kill -9, and wait until the process is gone. */
  crash(): Promise<void>;
}

/** Starts the receiver in a child process (tsx, no build step) and waits for it to listen. */
export function startChildReceiver(options: ReceiverOptions): Promise<ChildReceiver> {
  const child = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', join(__dirname, 'fixtures', 'receiver-child.ts'), JSON.stringify(options)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`receiver child exited with ${code} before listening`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!output.includes('\n')) return;
      const { url } = JSON.parse(output.split('\n')[0]) as { url: string };
      resolve({
        url,
        port: Number(new URL(url).port),
        process: child,
        crash: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

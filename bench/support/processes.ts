// Child processes the benches start: the emulator, the CLI, and the official Python SDK.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { EmulatorOptions } from '../../src/emulator';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'datature-batch.js');
/** The bootstrap's venv with the official SDK (`npm run bootstrap -- --with-python-sdk`). */
export const PYTHON = join(ROOT, '.tools', 'venv', 'bin', 'python');

export interface EmulatorProcess {
  url: string;
  projectId: string;
  secretKey: string;
  deploymentId: string;
  child: ChildProcess;
  /** Env pointing the CLI and the Python SDK at this emulator. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startEmulatorProcess(dbPath?: string, options: EmulatorOptions = {}): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', join(__dirname, 'emulator-child.ts'), dbPath ?? ''], {
    cwd: ROOT,
    env: { ...process.env, EMULATOR_OPTIONS: JSON.stringify(options) },
    // stdin stays open while this process lives: the emulator exits when it closes.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buffered = '';
  for await (const chunk of child.stdout!) {
    buffered += chunk;
    if (buffered.includes('\n')) break;
  }
  if (!buffered.includes('\n')) throw new Error('the emulator process ended before printing its address');
  const info = JSON.parse(buffered.split('\n')[0]) as Omit<EmulatorProcess, 'child' | 'env' | 'stop'>;
  const env = {
    ...process.env,
    DATATURE_API_BASE_URL: info.url,
    DATATURE_PROJECT_ID: info.projectId,
    DATATURE_SECRET_KEY: info.secretKey,
  };
  return {
    ...info,
    child,
    env,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

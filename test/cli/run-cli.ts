import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const binPath = join(__dirname, '..', '..', 'bin', 'datature-batch.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Env without anything that would point the CLI at a real service or change its defaults. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('DATATURE_') || name.startsWith('TEMPORAL_')) delete env[name];
  }
  return { ...env, ...extra };
}

/**
 * Spawns the real `bin/datature-batch.js`, as a user would. A long-lived one (a server) gets
 * `ownProcessGroup`, so that a test stops it with everything it started: `process.kill(-pid)`.
 */
export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  options: { ownProcessGroup?: boolean } = {},
): ChildProcess {
  return spawn(process.execPath, [binPath, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

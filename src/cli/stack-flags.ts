import type { Command } from 'commander';
import type { Stack, StackOptions } from '../dev';
import { type GlobalOptions, parseIntFlag } from './config';
import { UsageError } from './errors';

export interface StackFlags {
  dataDir?: string;
  temporalPort?: number;
  uiPort?: number;
  emulatorPort?: number;
  receiverPort?: number;
  fileServerPort?: number;
  worker?: boolean;
  /** `dev --codec`: payload encryption and a codec server for the Web UI. */
  codec?: boolean;
  codecPort?: number;
}

/** Flags of the commands that start the embedded stack (`demo`, `dev`); ports default to free ones. */
export function withStackFlags(command: Command): Command {
  const port = parseIntFlag(0);
  return command
    .option('--data-dir <dir>', 'where the stack keeps its state (default .data in the project)')
    .option('--temporal-port <port>', 'Temporal frontend port', port)
    .option('--ui-port <port>', 'Temporal Web UI port', port)
    .option('--emulator-port <port>', 'emulator port', port)
    .option('--receiver-port <port>', 'webhook receiver port', port)
    .option('--file-server-port <port>', 'sample file server port', port);
}

/** The embedded stack only starts when no external Temporal or API is configured (flag or env). */
export function assertNothingExternal(
  opts: GlobalOptions,
  env: Record<string, string | undefined> = process.env,
): void {
  const external = [
    opts.temporalAddress || env.TEMPORAL_ADDRESS ? 'a Temporal address (TEMPORAL_ADDRESS)' : undefined,
    opts.apiUrl || env.DATATURE_API_BASE_URL ? 'an API URL (DATATURE_API_BASE_URL)' : undefined,
  ].filter((item): item is string => item !== undefined);
  if (external.length > 0) {
    throw new UsageError(
      `${external.join(' and ')} given: the embedded stack starts nothing against external services; ` +
        "unset it, or run 'datature-batch worker' and 'run' against them",
    );
  }
}

export async function startStackFrom(
  flags: StackFlags,
  log: (message: string) => void,
  options: Pick<StackOptions, 'shareable'> = {},
): Promise<Stack> {
  const { startStack } = require('../dev') as typeof import('../dev');
  return startStack({ ...flags, ...options, log });
}

/** The variables that point the other commands (and any client) at the stack. */
export function stackEnv(stack: Stack): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: stack.namespace,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    TEMPORAL_UI_URL: stack.uiUrl,
    DATATURE_API_BASE_URL: stack.emulatorUrl,
    DATATURE_PROJECT_ID: stack.projectId,
    // The emulator's fixed, documented dev key (docs/emulator.md); no real secret is ever printed.
    DATATURE_SECRET_KEY: stack.secretKey,
    // With `dev --codec`: the key file, so the CLI and any worker read and write what the stack's worker does.
    ...(stack.codecKeysFile ? { DATATURE_BATCH_CODEC_KEYS: stack.codecKeysFile } : {}),
  };
}

import type { Command } from 'commander';
import type { DatatureClient } from '../datature-api';
import { type GlobalOptions, resolveApiConfig } from './config';

/** A Nexus API client from the command's flags and env. */
export function datatureApiFor(command: Command): DatatureClient {
  const config = resolveApiConfig(command.optsWithGlobals<GlobalOptions>());
  // Loaded on use, like every other room, so `--help` and usage errors stay fast.
  const { DatatureClient } = require('../datature-api') as typeof import('../datature-api');
  return new DatatureClient({ secretKey: config.secretKey, projectId: config.projectId, baseUrl: config.baseUrl });
}

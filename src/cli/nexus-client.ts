import type { Command } from 'commander';
import type { NexusClient } from '../nexus';
import { type GlobalOptions, resolveApiConfig } from './config';

/** A Nexus API client from the command's flags and env. */
export function nexusClientFor(command: Command): NexusClient {
  const config = resolveApiConfig(command.optsWithGlobals<GlobalOptions>());
  // Loaded on use, like every other room, so `--help` and usage errors stay fast.
  const { NexusClient } = require('../nexus') as typeof import('../nexus');
  return new NexusClient({ secretKey: config.secretKey, projectId: config.projectId, baseUrl: config.baseUrl });
}

import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { type GlobalOptions, resolveTemporalConfig, type TemporalConfig } from './config';

export interface TemporalSession {
  client: Client;
  config: TemporalConfig;
  close(): Promise<void>;
}

/** A Temporal client for the configured address and namespace (loaded on use: the SDK is slow to import). */
export async function connectTemporal(command: Command): Promise<TemporalSession> {
  const config = resolveTemporalConfig(command.optsWithGlobals<GlobalOptions>());
  return connectTemporalTo(config);
}

export async function connectTemporalTo(config: TemporalConfig): Promise<TemporalSession> {
  const { Client, Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
  const { temporalConnectionOptions } =
    require('../run-client/connection') as typeof import('../run-client/connection');
  // With DATATURE_BATCH_CODEC_KEYS, what the CLI writes is encrypted and what it reads decrypted (src/codec).
  // A bad key file is a CodecKeyError: exit 2, naming the file and field.
  const { dataConverterFromEnv } = require('../codec') as typeof import('../codec');
  const dataConverter = dataConverterFromEnv();
  let connection: Awaited<ReturnType<typeof Connection.connect>>;
  try {
    const { connection: options } = temporalConnectionOptions(config.address);
    connection = await Connection.connect({ ...options, connectTimeout: 5000 });
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${config.address}: ${(err as Error).message}`);
  }
  // With OTEL_* traces asked for, a run started here opens the trace the worker continues.
  const { tracingFromEnv, clientTracingInterceptors } = require('../telemetry') as typeof import('../telemetry');
  const tracing = tracingFromEnv('datature-batch-cli');
  return {
    client: new Client({
      connection,
      namespace: config.namespace,
      interceptors: clientTracingInterceptors(tracing),
      dataConverter,
    }),
    config,
    close: async () => {
      await connection.close();
      await tracing?.shutdown();
    },
  };
}

/** Connects, hands the session to `use`, and closes it whatever happens. */
export async function withTemporal<T>(command: Command, use: (session: TemporalSession) => Promise<T>): Promise<T> {
  const session = await connectTemporal(command);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

/**
 * The Web UI page of a run. The dev server's UI listens on its own port, given by env
 * `TEMPORAL_UI_URL` (printed by `dev`); otherwise the usual frontend port + 1000 convention.
 */
export function workflowUiUrl(
  config: TemporalConfig,
  workflowId: string,
  uiBaseUrl = process.env.TEMPORAL_UI_URL,
): string {
  const base = uiBaseUrl ?? defaultUiUrl(config.address);
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function defaultUiUrl(address: string): string {
  const [host, port] = address.split(':');
  return `http://${host}:${Number(port ?? 7233) + 1000}`;
}

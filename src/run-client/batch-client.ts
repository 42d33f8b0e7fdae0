// A Temporal client set up the way the CLI and the worker are: the connection from `@temporalio/envconfig`
// (TEMPORAL_* variables, profiles, Temporal Cloud API keys) and the payload codec when one is configured, so a
// service's runs are encrypted with the same keys the workers decrypt with.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { CODEC_KEYS_ENV, codecDataConverter, dataConverterFromEnv } from '../codec';
import { DEFAULT_NAMESPACE } from '../workflows/definitions';
import { temporalConnectionOptions } from './connection';

export interface BatchClientOptions {
  /** Default: envconfig's address, else localhost:7233. */
  address?: string;
  /** Default: envconfig's namespace, else `default`. */
  namespace?: string;
  /** Key file of the payload codec (docs/codec.md); default env DATATURE_BATCH_CODEC_KEYS, else no codec. */
  codecKeysPath?: string;
  /** A data converter of your own (e.g. `codecDataConverter({ keys })`); wins over `codecKeysPath`. */
  dataConverter?: DataConverter;
  env?: Record<string, string | undefined>;
}

export interface BatchClient {
  client: Client;
  close(): Promise<void>;
}

/** The data converter these options ask for: explicit, a key file, env DATATURE_BATCH_CODEC_KEYS, or none. */
export function batchDataConverter(options: BatchClientOptions = {}): DataConverter | undefined {
  if (options.dataConverter) return options.dataConverter;
  if (options.codecKeysPath) return codecDataConverter({ keysPath: options.codecKeysPath });
  return dataConverterFromEnv({ [CODEC_KEYS_ENV]: (options.env ?? process.env)[CODEC_KEYS_ENV] });
}

export async function connectBatchClient(options: BatchClientOptions = {}): Promise<BatchClient> {
  const dataConverter = batchDataConverter(options);
  const { connection: connectionOptions, namespace } = temporalConnectionOptions(options.address, options.env);
  const connection = await Connection.connect(connectionOptions);
  return {
    client: new Client({
      connection,
      namespace: options.namespace ?? namespace ?? DEFAULT_NAMESPACE,
      dataConverter,
    }),
    close: () => connection.close(),
  };
}

// One reading of the Temporal connection settings for every entry point (CLI, worker, services): TLS, API
// key and gRPC metadata come from `@temporalio/envconfig` (TEMPORAL_* variables and the profile file), so
// Temporal Cloud and self-hosted clusters work the same way everywhere.
import { loadClientConnectConfig } from '@temporalio/envconfig';

type EnvconfigConnection = ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
export type TemporalConnectionOptions = Pick<EnvconfigConnection, 'apiKey' | 'tls' | 'metadata'> & { address: string };

/** The envconfig settings, for `address` when given (a flag wins over the profile and env). */
export function temporalConnectionOptions(
  address?: string,
  env: Record<string, string | undefined> = process.env,
): { connection: TemporalConnectionOptions; namespace?: string } {
  const definedEnv = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: definedEnv });
  const { apiKey, tls, metadata } = connectionOptions;
  return {
    connection: { address: address ?? connectionOptions.address ?? 'localhost:7233', apiKey, tls, metadata },
    namespace,
  };
}

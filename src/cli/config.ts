import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
// Dependency-free module: config is read before any command, the client is loaded only on use.
import { DEFAULT_API_BASE_URL } from '../datature-api/defaults';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from '../workflows/definitions';
import { UsageError } from './errors';
import { registerSecret } from './secrets';

/** The options every command accepts (declared once on the root program). */
export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  apiUrl?: string;
  project?: string;
  secretKeyFile?: string;
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
}

export interface ApiConfig {
  baseUrl: string;
  projectId: string;
  secretKey: string;
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
}

type Env = Record<string, string | undefined>;

/**
 * API settings from flags, then env. The secret key is only read from env `DATATURE_SECRET_KEY`
 * or a file (`--secret-key-file`): a flag value would leak into shell history and `ps`.
 */
export function resolveApiConfig(opts: GlobalOptions, env: Env = process.env): ApiConfig {
  const baseUrl = opts.apiUrl ?? env.DATATURE_API_BASE_URL ?? DEFAULT_API_BASE_URL;
  const projectId = opts.project ?? env.DATATURE_PROJECT_ID;
  const secretKey = readSecretKey(opts, env);
  const missing = [
    projectId ? undefined : 'project id (--project or env DATATURE_PROJECT_ID)',
    secretKey ? undefined : 'secret key (env DATATURE_SECRET_KEY or --secret-key-file)',
  ].filter((item): item is string => item !== undefined);
  if (missing.length > 0) throw new UsageError(`missing configuration: ${missing.join(', ')}`);
  try {
    new URL(baseUrl);
  } catch {
    throw new UsageError(`invalid API URL: ${baseUrl}`);
  }
  return { baseUrl, projectId: projectId!, secretKey: secretKey! };
}

function readSecretKey(opts: GlobalOptions, env: Env): string | undefined {
  let secretKey = env.DATATURE_SECRET_KEY;
  if (opts.secretKeyFile) {
    try {
      secretKey = readFileSync(opts.secretKeyFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(
        `cannot read --secret-key-file ${opts.secretKeyFile}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    if (!secretKey) throw new UsageError(`--secret-key-file ${opts.secretKeyFile} is empty`);
  }
  if (secretKey) registerSecret(secretKey);
  return secretKey || undefined;
}

/** Temporal settings from flags, then the usual `TEMPORAL_*` env vars. */
export function resolveTemporalConfig(opts: GlobalOptions, env: Env = process.env): TemporalConfig {
  const address = opts.temporalAddress ?? env.TEMPORAL_ADDRESS;
  if (!address) {
    throw new UsageError(
      'missing configuration: Temporal address (--temporal-address or env TEMPORAL_ADDRESS); ' +
        "run 'datature-batch dev' for a local stack",
    );
  }
  return {
    address,
    namespace: opts.namespace ?? env.TEMPORAL_NAMESPACE ?? DEFAULT_NAMESPACE,
    taskQueue: opts.taskQueue ?? env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
  };
}

/** An integer flag of at least `min`; commander reports a bad value as a usage error. */
export function parseIntFlag(min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return parsed;
  };
}

/** A repeatable string flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An ISO-8601 time flag, normalised to ISO. */
export function parseTimeFlag(value: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-01-31T08:00:00Z');
  return time.toISOString();
}

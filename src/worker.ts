// The worker process: `node -r tsx/cjs src/worker.ts` (env config) or `createWorker(...)` in-process.
// Any number of these on one task queue share the work; a killed one's tasks move to the others.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { createActivities } from './activities';
import { dataConverterFromEnv } from './codec';
import { DEFAULT_API_BASE_URL } from './datature-api';
import { datatureBatchHandlers } from './nexus-service/handlers';
import { temporalConnectionOptions } from './run-client/connection';
import {
  installWorkerRuntime,
  METRICS_WORKFLOW_MODULE,
  parseMetricsAddress,
  TRACING_WORKFLOW_MODULE,
  type Tracing,
  tracingFromEnv,
  workerTracingOptions,
} from './telemetry';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from './workflows/definitions';

export interface DatatureApiConfig {
  secretKey: string;
  projectId: string;
  baseUrl: string;
}

export interface CreateWorkerOptions {
  /** An open connection, left open for its owner; or `address`, connected here and closed when the worker stops. */
  connection?: NativeConnection;
  address?: string;
  namespace?: string;
  taskQueue?: string;
  datature: DatatureApiConfig;
  /** Where job log files are written; a run's `logs.directory` is a folder inside it. Default `.data/logs`. */
  logsDir?: string;
  /** Traces (see src/telemetry): activity spans, workflow spans exported through a sink. Default: none. */
  tracing?: Tracing;
  /**
   * On shutdown (SIGTERM of a deploy), how long in-flight activities may go on before they are cancelled
   * and retried elsewhere. Default 30 s: a look at a job (30 s start-to-close) and an upload chunk finish.
   */
  shutdownGraceMs?: number;
  /**
   * The payload codec's data converter (src/codec: `codecDataConverter`, `dataConverterFromEnv`); default none,
   * payloads stored as plain JSON. Its failure converter is built into the workflow bundle too.
   */
  dataConverter?: DataConverter;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

const repoRoot = resolve(__dirname, '..');
const bundleCacheDir = join(repoRoot, '.data', 'workflow-bundle');

/** Every source file: the bundle holds what the workflows import, wherever it lives, so any change counts. */
function sourceFiles(): string[] {
  return readdirSync(__dirname, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * The workflow bundle, built once per (sources, SDK version) and cached on disk: later starts
 * (and every worker process of a test) skip the webpack build. The file is written whole, then renamed,
 * so concurrent starts never read half a bundle.
 */
export async function workflowBundlePath(
  options: { tracing?: boolean; failureConverterPath?: string } = {},
): Promise<string> {
  // The pipeline metrics always; the OTel module only with tracing (it needs the worker's exporter sink).
  const interceptorModules = [METRICS_WORKFLOW_MODULE, ...(options.tracing ? [TRACING_WORKFLOW_MODULE] : [])];
  const hash = createHash('sha256');
  hash.update(require('@temporalio/workflow/package.json').version);
  hash.update(interceptorModules.join('\n'));
  // A workflow's failures are made inside the sandbox: the codec's failure converter must be in the bundle.
  hash.update(`failure converter: ${options.failureConverterPath ?? 'default'}`);
  for (const file of sourceFiles()) hash.update(file).update(readFileSync(file));
  const codePath = join(bundleCacheDir, `${hash.digest('hex').slice(0, 16)}.js`);
  if (existsSync(codePath)) return codePath;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: interceptorModules,
    failureConverterPath: options.failureConverterPath,
    // The build is an implementation detail of starting a worker: only its problems are worth printing.
    logger: new DefaultLogger('WARN'),
  });
  mkdirSync(bundleCacheDir, { recursive: true });
  const partial = `${codePath}.${process.pid}.tmp`;
  writeFileSync(partial, code);
  renameSync(partial, codePath);
  return codePath;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const ownsConnection = !options.connection;
  const connection =
    options.connection ?? (await NativeConnection.connect({ address: options.address ?? 'localhost:7233' }));
  const tracing = options.tracing ? workerTracingOptions(options.tracing) : undefined;
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    shutdownGraceTime: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    workflowBundle: {
      codePath: await workflowBundlePath({
        tracing: Boolean(tracing),
        failureConverterPath: options.dataConverter?.failureConverterPath,
      }),
    },
    dataConverter: options.dataConverter,
    ...(tracing ? { sinks: tracing.sinks, interceptors: { activity: tracing.activityInterceptors } } : {}),
    activities: createActivities({
      ...options.datature,
      logsDir: resolve(options.logsDir ?? join(repoRoot, '.data', 'logs')),
      temporalClient: new Client({ connection, namespace, dataConverter: options.dataConverter }),
    }),
    // Callers in other namespaces reach the workflow through a Nexus endpoint targeting this task queue.
    nexusServices: [datatureBatchHandlers],
  });
  if (ownsConnection) {
    const run = worker.run.bind(worker);
    worker.run = async () => {
      try {
        await run();
      } finally {
        await connection.close();
      }
    };
  }
  return worker;
}

const nonEmpty = (variable: string) => z.string({ error: `${variable} is required` }).min(1, `${variable} is empty`);

const ShutdownGraceSchema = z
  .string()
  .regex(/^\d+$/, 'DATATURE_BATCH_SHUTDOWN_GRACE_MS is not a whole number of milliseconds')
  .transform(Number)
  .optional();

const WorkerEnvSchema = z.object({
  DATATURE_SECRET_KEY: nonEmpty('DATATURE_SECRET_KEY'),
  DATATURE_PROJECT_ID: nonEmpty('DATATURE_PROJECT_ID'),
  DATATURE_API_BASE_URL: z
    .url({ error: 'DATATURE_API_BASE_URL is not an http(s) URL', protocol: /^https?$/ })
    .default(DEFAULT_API_BASE_URL),
  TEMPORAL_TASK_QUEUE: nonEmpty('TEMPORAL_TASK_QUEUE').default(DEFAULT_TASK_QUEUE),
  DATATURE_LOGS_DIR: nonEmpty('DATATURE_LOGS_DIR').optional(),
  DATATURE_BATCH_METRICS_ADDRESS: z.string().optional(),
  DATATURE_BATCH_SHUTDOWN_GRACE_MS: ShutdownGraceSchema,
});

function shutdownGraceFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const parsed = ShutdownGraceSchema.safeParse(env.DATATURE_BATCH_SHUTDOWN_GRACE_MS);
  if (!parsed.success) throw new Error(`invalid worker configuration: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** Reads the worker's env; throws one line per problem, naming the variable and never showing a value. */
function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const parsed = WorkerEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid worker configuration: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  const vars = parsed.data;
  return {
    taskQueue: vars.TEMPORAL_TASK_QUEUE,
    datature: {
      secretKey: vars.DATATURE_SECRET_KEY,
      projectId: vars.DATATURE_PROJECT_ID,
      baseUrl: vars.DATATURE_API_BASE_URL,
    },
    logsDir: vars.DATATURE_LOGS_DIR,
    shutdownGraceMs: vars.DATATURE_BATCH_SHUTDOWN_GRACE_MS,
  };
}

/** `--metrics-port` (CLI) wins over env `DATATURE_BATCH_METRICS_ADDRESS` (`<port>` or `<host>:<port>`). */
function metricsAddressFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = flag ?? env.DATATURE_BATCH_METRICS_ADDRESS;
  if (value === undefined || value.trim() === '') return undefined;
  try {
    return parseMetricsAddress(value);
  } catch (err) {
    throw new Error(`invalid worker configuration: DATATURE_BATCH_METRICS_ADDRESS: ${(err as Error).message}`);
  }
}

/**
 * Runs a worker until SIGINT/SIGTERM (the SDK's runtime turns them into a graceful shutdown: no new tasks,
 * in-flight activities get `shutdownGraceMs` to finish, then are cancelled and retried by another worker). Temporal connection from `@temporalio/envconfig`
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles); the rest from DATATURE_* env,
 * unless the CLI passes its resolved config.
 */
export async function runWorker(resolved?: {
  temporal?: { address: string; namespace: string; taskQueue: string };
  api?: DatatureApiConfig;
  /** `<port>` or `<host>:<port>` of the Prometheus endpoint; default env DATATURE_BATCH_METRICS_ADDRESS, else none. */
  metricsAddress?: string;
  /** Told the scrape URL once the endpoint is up. */
  onMetrics?: (url: string) => void;
  /** Default env DATATURE_BATCH_SHUTDOWN_GRACE_MS, else DEFAULT_SHUTDOWN_GRACE_MS. */
  shutdownGraceMs?: number;
  /** Default: the codec of env DATATURE_BATCH_CODEC_KEYS, else none. */
  dataConverter?: DataConverter;
}): Promise<void> {
  const fromEnv = resolved?.api ? undefined : workerConfigFromEnv();
  // The CLI resolves the API config itself, not the grace: read it here either way, by the same rule.
  const graceFromEnv = fromEnv ? fromEnv.shutdownGraceMs : shutdownGraceFromEnv();
  const metricsAddress = metricsAddressFrom(resolved?.metricsAddress);
  // Without metrics the SDK creates its default runtime itself, as before.
  const { metricsUrl } = metricsAddress ? installWorkerRuntime({ metricsAddress }) : {};
  if (metricsUrl) resolved?.onMetrics?.(metricsUrl);
  // Read (and its key file checked) before connecting: a bad key file stops the worker at once, saying why.
  const dataConverter = resolved?.dataConverter ?? dataConverterFromEnv();
  const tracing = tracingFromEnv('datature-batch-worker');
  const { connection: connectionOptions, namespace } = temporalConnectionOptions(resolved?.temporal?.address);
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const worker = await createWorker({
      connection,
      namespace: resolved?.temporal?.namespace ?? namespace ?? DEFAULT_NAMESPACE,
      taskQueue: resolved?.temporal?.taskQueue ?? fromEnv?.taskQueue,
      datature: resolved?.api ?? fromEnv!.datature,
      // The CLI resolves the API config itself but not the logs directory.
      logsDir: fromEnv?.logsDir ?? process.env.DATATURE_LOGS_DIR,
      shutdownGraceMs: resolved?.shutdownGraceMs ?? graceFromEnv,
      tracing,
      dataConverter,
    });
    await worker.run();
  } finally {
    await connection.close();
    await tracing?.shutdown();
  }
}

if (require.main === module) {
  runWorker().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}

import type { FaultSet } from './faults';

/** A deployment jobs can reference as `ExistingDeployment`. `overview` other than `Available` cannot serve. */
export interface EmulatorDeployment {
  id: string;
  name?: string;
  replicas: number;
  overview?: 'Available' | 'Creating' | 'Updating' | 'Removing' | 'Errored';
}

export interface EmulatorProject {
  /** `proj_` followed by 32 hex characters. */
  id: string;
  secretKey: string;
  deployments?: EmulatorDeployment[];
}

export interface EmulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** SQLite file; state is in memory (lost on close) when absent. */
  dbPath?: string;
  projects?: EmulatorProject[];
  /** Mounts `/_emulator/*` (faults, clock, state). Off by default. */
  adminRoutes?: boolean;
  /** How often the scheduler looks at waiting jobs and flushes item outcomes. */
  tickIntervalMs?: number;
  /** Per-item HTTP GET timeout while gathering. */
  gatherTimeoutMs?: number;
  /** Time the emulated model takes per item. */
  modelLatencyMs?: number;
  /** Concurrent items per job = deployment replicas x this factor. */
  concurrencyPerReplica?: number;
  /** First retry delay of a webhook delivery; doubles each attempt, capped by the webhook's maxBackoffMs. */
  deliveryBaseBackoffMs?: number;
  /** Per-attempt timeout of a webhook delivery. */
  deliveryTimeoutMs?: number;
  /** Added to the wall clock for everything the emulator timestamps or schedules. */
  clockOffsetMs?: number;
  faults?: FaultSet;
  /**
   * `status.overview` and `status.message` a job reports while its items flow (after `startAtTime`, before it
   * ends). The hosted API's value is unknown: the SDK's `JobStatusOverview` has only `Waiting`, `Reached` and
   * `Failed`, and the docs show `Waiting` with items already gathered, hence the default `Waiting`. Pass
   * `Running` (or any other string) to test a client's tolerance of an overview the SDK does not know.
   * `Reached` and `Failed` are refused: they mean the job ended.
   */
  runningJobOverview?: string;
}

export const DEV_PROJECT_ID = 'proj_00000000000000000000000000000001';
export const DEV_SECRET_KEY = 'emulator-secret-key';
export const DEV_DEPLOYMENT_ID = 'deploy_00000000-0000-4000-8000-000000000001';

const DEFAULT_PROJECTS: EmulatorProject[] = [
  {
    id: DEV_PROJECT_ID,
    secretKey: DEV_SECRET_KEY,
    deployments: [{ id: DEV_DEPLOYMENT_ID, name: 'emulated-deployment', replicas: 4, overview: 'Available' }],
  },
];

export interface ResolvedOptions {
  host: string;
  port: number;
  dbPath: string | undefined;
  projects: EmulatorProject[];
  adminRoutes: boolean;
  tickIntervalMs: number;
  gatherTimeoutMs: number;
  modelLatencyMs: number;
  concurrencyPerReplica: number;
  deliveryBaseBackoffMs: number;
  deliveryTimeoutMs: number;
  clockOffsetMs: number;
  faults: FaultSet;
  runningJobOverview: string;
}

/** The default of `runningJobOverview`: what the docs show for a job whose items already flow. */
export const DEFAULT_RUNNING_JOB_OVERVIEW = 'Waiting';
const ENDED_JOB_OVERVIEWS = ['Reached', 'Failed'];

export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  const projects = options.projects ?? DEFAULT_PROJECTS;
  for (const project of projects) {
    if (!/^proj_[0-9a-f]{32}$/.test(project.id)) throw new Error(`project id ${project.id} is not proj_<32 hex>`);
  }
  const runningJobOverview = options.runningJobOverview ?? DEFAULT_RUNNING_JOB_OVERVIEW;
  if (runningJobOverview.trim() === '' || ENDED_JOB_OVERVIEWS.includes(runningJobOverview)) {
    throw new Error(
      `runningJobOverview ${JSON.stringify(runningJobOverview)} is not allowed: use a non-empty value other than ${ENDED_JOB_OVERVIEWS.join(' or ')}, which mean the job ended`,
    );
  }
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    dbPath: options.dbPath,
    projects,
    adminRoutes: options.adminRoutes ?? false,
    tickIntervalMs: options.tickIntervalMs ?? 100,
    gatherTimeoutMs: options.gatherTimeoutMs ?? 30_000,
    modelLatencyMs: options.modelLatencyMs ?? 0,
    concurrencyPerReplica: options.concurrencyPerReplica ?? 4,
    deliveryBaseBackoffMs: options.deliveryBaseBackoffMs ?? 500,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 10_000,
    clockOffsetMs: options.clockOffsetMs ?? 0,
    faults: options.faults ?? {},
    runningJobOverview,
  };
}

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
}

export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  const projects = options.projects ?? DEFAULT_PROJECTS;
  for (const project of projects) {
    if (!/^proj_[0-9a-f]{32}$/.test(project.id)) throw new Error(`project id ${project.id} is not proj_<32 hex>`);
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
  };
}

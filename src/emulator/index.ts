import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from './app';
import { Clock } from './clock';
import { DatasetFiles } from './dataset-files';
import { Faults } from './faults';
import { JobEngine } from './job-engine';
import { DEV_DEPLOYMENT_ID, type EmulatorOptions, resolveOptions } from './options';
import { requestHandler } from './server';
import { Store } from './store';
import { UploadSigner } from './upload-url';

export type { FaultSet, RouteFault } from './faults';
export {
  DEFAULT_RUNNING_JOB_OVERVIEW,
  DEV_DEPLOYMENT_ID,
  DEV_PROJECT_ID,
  DEV_SECRET_KEY,
  type EmulatorDeployment,
  type EmulatorOptions,
  type EmulatorProject,
} from './options';

export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:4010`: what `DATATURE_API_BASE_URL` should be. */
  url: string;
  /** The first configured project and its key (the dev credentials by default). */
  projectId: string;
  secretKey: string;
  /** The first deployment of that project. */
  deploymentId: string;
  /** What a job whose items flow reports as `status.overview` (the `runningJobOverview` option). */
  runningJobOverview: string;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const resolved = resolveOptions(options);
  const store = new Store(resolved.dbPath);
  const ownDataDir = resolved.dbPath === undefined;
  const dataDir = ownDataDir ? await mkdtemp(join(tmpdir(), 'datature-api-emulator-')) : `${resolved.dbPath}.files`;
  mkdirSync(dataDir, { recursive: true });
  const clock = new Clock(resolved.clockOffsetMs);
  const faults = new Faults(resolved.faults);
  const signer = new UploadSigner(store.uploadSigningKey());
  const files = new DatasetFiles(store, clock, signer, dataDir, faults);
  const engine = new JobEngine(store, clock, faults, resolved);
  let url = '';
  const app: App = {
    store,
    clock,
    faults,
    options: resolved,
    engine,
    files,
    signer,
    startedAt: clock.now(),
    baseUrl: () => url,
  };

  const server = createServer(requestHandler(app));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;
  await files.recover();
  engine.start();

  const [project] = resolved.projects;
  let closed: Promise<void> | undefined;
  return {
    url,
    projectId: project.id,
    secretKey: project.secretKey,
    deploymentId: project.deployments?.[0]?.id ?? DEV_DEPLOYMENT_ID,
    runningJobOverview: resolved.runningJobOverview,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await stopped;
        await engine.close();
        await files.close();
        store.close();
        if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

import type { Clock } from './clock';
import type { DatasetFiles } from './dataset-files';
import type { Faults } from './faults';
import type { Route } from './http';
import type { JobEngine } from './job-engine';
import type { EmulatorProject, ResolvedOptions } from './options';
import type { Store } from './store';
import type { UploadSigner } from './upload-url';

/** Everything a route handler may use. */
export interface App {
  store: Store;
  clock: Clock;
  faults: Faults;
  options: ResolvedOptions;
  engine: JobEngine;
  files: DatasetFiles;
  signer: UploadSigner;
  startedAt: number;
  /** The emulator's own base URL (known once listening), for signed upload URLs. */
  baseUrl: () => string;
}

/** A request to `/projects/{projectId}/...` that passed authentication. */
export interface ApiRequest {
  app: App;
  project: EmulatorProject;
  url: URL;
  body: () => Promise<unknown>;
}

export type ApiRoute = Route<ApiRequest>;

/** `^/projects/<id>/<rest>$` with `{id}` groups for path parameters that contain no slash or colon. */
export function projectPath(rest: string): RegExp {
  return new RegExp(`^/projects/[^/]+/${rest.replace(/\{id\}/g, '([^/:]+)')}$`);
}

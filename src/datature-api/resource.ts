import type { Transport } from './transport';

/** What every resource shares: the transport and the project's base path. */
export abstract class ApiResource {
  constructor(
    protected readonly transport: Transport,
    protected readonly projectId: string,
  ) {}

  protected path(...segments: string[]): string {
    return `/projects/${encodeURIComponent(this.projectId)}/batch/${segments.join('/')}`;
  }
}

/** Path segment for an id: encoded, so an id can never reach another route. */
export const seg = (id: string) => encodeURIComponent(id);

import { inspect } from 'node:util';
import type { Dispatcher } from 'undici';
import { version } from '../../package.json';
import { Datasets } from './datasets';
import { DEFAULT_API_BASE_URL } from './defaults';
import { DatatureValidationError } from './errors';
import { Jobs } from './jobs';
import { Transport } from './transport';
import { Webhooks } from './webhooks';

export interface DatatureClientOptions {
  /** The project's secret key (`Secret-Key` header). Never logged, never in errors. */
  secretKey: string;
  /** With or without the `proj_` prefix. */
  projectId: string;
  /** Default: env DATATURE_API_BASE_URL, else DEFAULT_API_BASE_URL (https://api.datature.io). */
  baseUrl?: string;
  /** Per attempt; default 60 s (the signed-URL upload has no overall timeout unless one is given per call). */
  timeoutMs?: number;
  /** Default 2; the Temporal activities pass 1 (Temporal retries the activity itself). */
  maxRetries?: number;
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;
export const USER_AGENT = `datature-batch-worker/${version}`;

/** The typed client of the Datature Nexus batch API. */
export class DatatureClient {
  readonly projectId: string;
  readonly baseUrl: string;
  readonly webhooks: Webhooks;
  readonly datasets: Datasets;
  readonly jobs: Jobs;

  constructor(options: DatatureClientOptions) {
    if (typeof options.secretKey !== 'string' || options.secretKey === '') {
      throw new DatatureValidationError('secretKey', 'is required');
    }
    if (typeof options.projectId !== 'string' || options.projectId.trim() === '') {
      throw new DatatureValidationError('projectId', 'is required');
    }
    this.projectId = options.projectId.startsWith('proj_') ? options.projectId : `proj_${options.projectId}`;
    this.baseUrl = options.baseUrl || process.env.DATATURE_API_BASE_URL || DEFAULT_API_BASE_URL;
    if (!/^https?:\/\//.test(this.baseUrl)) throw new DatatureValidationError('baseUrl', 'must be an http(s) URL');
    const transport = new Transport({
      baseUrl: this.baseUrl,
      secretKey: options.secretKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
      userAgent: USER_AGENT,
      dispatcher: options.dispatcher,
    });
    this.webhooks = new Webhooks(transport, this.projectId);
    this.datasets = new Datasets(transport, this.projectId);
    this.jobs = new Jobs(transport, this.projectId, this.datasets);
  }

  /** The key lives only in a private field of the transport; this keeps inspect output short too. */
  [inspect.custom]() {
    return `DatatureClient { projectId: '${this.projectId}', baseUrl: '${this.baseUrl}' }`;
  }
}

// The HTTP surface of the receiver: POST / takes signed deliveries, GET /healthz and GET /counts report,
// POST /watches asks to be told when a job's every item has its prediction here.
// Checks run cheapest-first and nothing from the body is trusted before its signature is verified.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { BodyTooLargeError, readBody, requestUrl, sendJson } from '../http-server';
import { verifyDelivery, WebhookDelivery } from '../webhook-delivery';
import { PredictionStore } from './prediction-store';
import { SecretKeyring } from './secret-keyring';

export interface ReceiverOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  /** Secrets always accepted (e.g. both sides of a planned rotation). */
  secrets?: string[];
  /** File holding the current secret; re-checked on every request. */
  secretFile?: string;
  /** NDJSON file the accepted predictions are appended to (created if missing). */
  outFile: string;
  /** Accepted clock difference between the delivery's timestamp and now. Default 300. */
  toleranceSeconds?: number;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long the previous file secret stays valid after the file changes. Default 300. */
  graceSeconds?: number;
  /**
   * Called once per watched job (POST /watches) when the receiver holds a prediction for each of its items:
   * the dev stack and the CLI send the run a `checkNow` signal, so it notices the end at once.
   */
  onJobComplete?: (watch: JobWatch) => Promise<void> | void;
}

/** What a run tells the receiver when its job is created. */
export const JobWatch = z.strictObject({
  jobId: z.string().min(1).max(200),
  itemCount: z.number().int().positive(),
  workflowId: z.string().min(1).max(1000),
});
export type JobWatch = z.infer<typeof JobWatch>;

export interface Receiver {
  /** Base URL; deliveries go to this URL itself (it is the webhook endpoint). */
  url: string;
  close(): Promise<void>;
  /** Stored predictions per job id. */
  counts(): Record<string, number>;
  /** Stored predictions in all. */
  readonly total: number;
  /** Settles once every `onJobComplete` call started so far has settled (for tests and shutdown). */
  notified(): Promise<void>;
}

const ONE_MIB = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  const maxBodyBytes = options.maxBodyBytes ?? ONE_MIB;
  const keyring = new SecretKeyring({
    secrets: options.secrets,
    secretFile: options.secretFile,
    graceSeconds: options.graceSeconds ?? 300,
  });
  const store = await PredictionStore.open(options.outFile);
  /** Watched jobs by id; in memory only: after a restart the run's own polling notices the end. */
  const watches = new Map<string, JobWatch>();
  const notifications = new Set<Promise<void>>();
  const notifyIfComplete = (jobId: string) => {
    const watch = watches.get(jobId);
    if (!watch || store.countFor(jobId) < watch.itemCount || !options.onJobComplete) return;
    watches.delete(jobId);
    const notifying = Promise.resolve()
      .then(() => options.onJobComplete?.(watch))
      .catch((error: unknown) => {
        // The run polls anyway: a lost notification only costs it the time until its next look.
        console.error(`receiver: could not notify run ${watch.workflowId} of job ${jobId}: ${String(error)}`);
      })
      .finally(() => notifications.delete(notifying));
    notifications.add(notifying);
  };

  const acceptWatch = async (request: IncomingMessage, response: ServerResponse) => {
    let json: unknown;
    try {
      json = JSON.parse((await readBody(request, 16 * 1024)).toString('utf8'));
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw error;
      throw new HttpError(400, 'invalid-json', 'body is not JSON');
    }
    const parsed = JobWatch.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
      throw new HttpError(400, 'invalid-watch', `give { jobId, itemCount, workflowId } (check: ${where})`);
    }
    watches.set(parsed.data.jobId, parsed.data);
    notifyIfComplete(parsed.data.jobId);
    sendJson(response, 200, {
      ok: true,
      predictions: store.countFor(parsed.data.jobId),
      watching: !!options.onJobComplete,
    });
  };

  const acceptDelivery = async (request: IncomingMessage, response: ServerResponse) => {
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (mediaType !== 'application/json') {
      throw new HttpError(415, 'unsupported-media-type', 'deliveries must be application/json');
    }
    const declaredLength = Number(request.headers['content-length'] ?? 0);
    if (declaredLength > maxBodyBytes) throw new BodyTooLargeError(maxBodyBytes);
    const body = await readBody(request, maxBodyBytes);

    const verdict = verifyDelivery(
      keyring.current(),
      request.headers,
      body,
      Math.floor(Date.now() / 1000),
      toleranceSeconds,
    );
    if (!verdict.ok) throw new HttpError(401, verdict.reason, 'delivery signature not accepted');

    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid-json', 'body is not JSON');
    }
    const parsed = WebhookDelivery.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
      throw new HttpError(400, 'invalid-delivery', `body is not a known delivery (check: ${where})`);
    }
    const delivery = parsed.data;
    // The signature binds the header id and the body separately; a mismatch is a sender bug, not a dedup key.
    if (delivery.deliveryId !== verdict.deliveryId) {
      throw new HttpError(400, 'delivery-id-mismatch', 'webhook-id header and body deliveryId differ');
    }
    if (delivery.type === 'webhook.test') {
      response.writeHead(204).end();
      return;
    }
    const outcome = await store.append({
      deliveryId: delivery.deliveryId,
      jobId: delivery.jobId,
      datasetId: delivery.datasetId,
      item: delivery.item,
      predictions: delivery.predictions,
      receivedAt: new Date().toISOString(),
    });
    sendJson(response, 200, { ok: true, duplicate: outcome === 'duplicate' });
    if (outcome === 'stored') notifyIfComplete(delivery.jobId);
  };

  const route = async (request: IncomingMessage, response: ServerResponse) => {
    const url = requestUrl(request);
    if (!url) throw new HttpError(400, 'invalid-url', 'the request URL cannot be parsed');
    const allow = (methods: string) => {
      if (!methods.split(', ').includes(request.method ?? '')) {
        throw new HttpError(405, 'method-not-allowed', `use ${methods}`, { allow: methods });
      }
    };
    switch (url.pathname) {
      case '/':
        allow('POST');
        return acceptDelivery(request, response);
      case '/watches':
        allow('POST');
        return acceptWatch(request, response);
      case '/healthz':
        allow('GET, HEAD');
        return sendJson(response, 200, { ok: true, predictions: store.total });
      case '/counts': {
        allow('GET, HEAD');
        const jobId = url.searchParams.get('jobId');
        if (!jobId) throw new HttpError(400, 'missing-job-id', 'give ?jobId=');
        return sendJson(response, 200, { jobId, predictions: store.countFor(jobId) });
      }
      default:
        throw new HttpError(404, 'not-found', `no route ${url.pathname}`);
    }
  };

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => sendError(request, response, error));
  });
  // Slow-loris bodies must not pin connections forever.
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    counts: () => store.counts(),
    notified: async () => {
      await Promise.all([...notifications]);
    },
    get total() {
      return store.total;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await Promise.all([...notifications]);
      await store.close();
    },
  };
}

function sendError(request: IncomingMessage, response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof BodyTooLargeError) {
    // The rest of the body is not worth reading: answer, then drop the connection.
    sendJson(response, 413, { error: 'body-too-large', message: error.message }, { connection: 'close' });
    request.resume();
    return;
  }
  if (error instanceof HttpError) {
    sendJson(response, error.status, { error: error.code, message: error.message }, error.headers);
    return;
  }
  // A failed fsync or write: the sender must retry, and the delivery was not acknowledged.
  sendJson(response, 500, { error: 'internal', message: 'could not store the delivery' });
}

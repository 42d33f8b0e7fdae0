// Every HTTP call to the Datature API (and the signed-URL upload) as a metric sample and, with tracing on,
// a client span under the activity's span. Observed through undici's diagnostics_channel hooks, so the
// datatureApi client itself is unchanged. Only the method, a route template, the host and the status are kept:
// never the query (the signed URL's signature), a header, or a body.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';
import { API_REQUEST_DURATION, API_REQUESTS, BYTES_UPLOADED } from './metric-names';

/** The signed-URL upload's route: its host is a storage service and its query is a credential. */
export const UPLOAD_ROUTE = 'PUT <signed upload URL>';

/** Path segments kept as they are; anything else (ids, names) becomes `:id`. */
const KNOWN_SEGMENTS = new Set(['projects', 'batch', 'webhooks', 'datasets', 'jobs', 'logs', 'secret', 'deployments']);

/** `GET /projects/proj_1/batch/jobs/batchjob_2?x=1` -> `GET /projects/:id/batch/jobs/:id`. */
export function routeOf(method: string, path: string): string {
  const pathname = path.split(/[?#]/, 1)[0];
  const template = pathname
    .split('/')
    .map((segment, index) => {
      if (index === 0 || segment === '') return segment;
      // A custom method (`/webhooks/<id>:test`) keeps its verb.
      const colon = segment.indexOf(':');
      const [name, verb] = colon >= 0 ? [segment.slice(0, colon), segment.slice(colon)] : [segment, ''];
      const kept = KNOWN_SEGMENTS.has(name) ? name : ':id';
      return kept + (/^:[a-z]+$/.test(verb) ? verb : '');
    })
    .join('/');
  return `${method} ${template}`;
}

interface UndiciRequest {
  method: string;
  origin?: string | URL;
  path: string;
  headers: string[] | string;
  /** undici takes `content-length` out of the headers into this field. */
  contentLength?: number | null;
}

interface SpanLike {
  setAttribute(key: string, value: string | number): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** What the instrumentation needs of OpenTelemetry: a client span started under the active context. */
export type StartSpan = (name: string, attributes: Record<string, string | number>) => SpanLike;

interface InFlight {
  route: string;
  startedAt: number;
  uploadBytes?: number;
  status?: number;
  span?: SpanLike;
}

interface Sinks {
  requests?: MetricCounter;
  duration?: MetricHistogram;
  bytes?: MetricCounter;
  startSpan?: StartSpan;
}

const inFlight = new WeakMap<object, InFlight>();
let sinks: Sinks = {};
let subscribed = false;

function headerNames(headers: string[] | string): Set<string> {
  const names = new Set<string>();
  const pairs: [string, string][] = [];
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])]);
  } else {
    for (const line of headers.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) pairs.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
  }
  for (const [name] of pairs) names.add(name.toLowerCase());
  return names;
}

/** A call to the API carries the secret key; the upload is a PUT of NDJSON with the storage's headers. */
function classify(request: UndiciRequest): InFlight | undefined {
  const names = headerNames(request.headers);
  const contentLength = typeof request.contentLength === 'number' ? request.contentLength : undefined;
  if (names.has('secret-key')) return { route: routeOf(request.method, request.path), startedAt: performance.now() };
  if (
    request.method === 'PUT' &&
    contentLength !== undefined &&
    [...names].some((name) => name.startsWith('x-goog-'))
  ) {
    return { route: UPLOAD_ROUTE, startedAt: performance.now(), uploadBytes: contentLength };
  }
  return undefined;
}

function onCreate(message: unknown): void {
  const { request } = message as { request: UndiciRequest };
  const call = classify(request);
  if (!call) return;
  if (sinks.startSpan) {
    const origin = request.origin ? new URL(String(request.origin)) : undefined;
    const [method, template] = call.route.split(' ');
    call.span = sinks.startSpan(call.route, {
      'http.request.method': method,
      'url.template': template,
      ...(origin
        ? {
            'server.address': origin.hostname,
            'server.port': Number(origin.port || (origin.protocol === 'https:' ? 443 : 80)),
          }
        : {}),
    });
  }
  inFlight.set(request, call);
}

function onHeaders(message: unknown): void {
  const { request, response } = message as { request: object; response: { statusCode: number } };
  const call = inFlight.get(request);
  if (call) call.status = response.statusCode;
}

function finish(request: object, error?: { name?: string; code?: string }): void {
  const call = inFlight.get(request);
  if (!call) return;
  inFlight.delete(request);
  const status = error ? 'error' : String(call.status ?? 'error');
  sinks.requests?.add(1, { route: call.route, status });
  sinks.duration?.record((performance.now() - call.startedAt) / 1000, { route: call.route });
  if (!error && call.uploadBytes && call.status !== undefined && call.status < 300) sinks.bytes?.add(call.uploadBytes);
  if (call.span) {
    if (call.status !== undefined) call.span.setAttribute('http.response.status_code', call.status);
    if (error || (call.status ?? 0) >= 400) {
      const kind = error ? error.code || error.name || 'Error' : String(call.status);
      call.span.setAttribute('error.type', kind);
      call.span.setStatus({ code: 2, message: kind });
    }
    call.span.end();
  }
}

function onTrailers(message: unknown): void {
  finish((message as { request: object }).request);
}

function onError(message: unknown): void {
  const { request, error } = message as { request: object; error: { name?: string; code?: string } };
  finish(request, error ?? {});
}

const CHANNELS: [string, (message: unknown) => void][] = [
  ['undici:request:create', onCreate],
  ['undici:request:headers', onHeaders],
  ['undici:request:trailers', onTrailers],
  ['undici:request:error', onError],
];

/**
 * Starts observing Datature HTTP calls process-wide: metrics on `meter`, spans through `startSpan`.
 * Calling it again replaces what is given; `stopHttpInstrumentation` unsubscribes (then nothing is paid).
 */
export function instrumentDatatureHttp(options: { meter?: MetricMeter; startSpan?: StartSpan }): void {
  sinks = {
    ...sinks,
    ...(options.meter
      ? {
          requests: options.meter.createCounter(API_REQUESTS, undefined, 'Datature API calls by route and status'),
          duration: options.meter.createHistogram(API_REQUEST_DURATION, 'float', undefined, 'Datature API latency'),
          bytes: options.meter.createCounter(BYTES_UPLOADED, undefined, 'dataset bytes uploaded'),
        }
      : {}),
    ...(options.startSpan ? { startSpan: options.startSpan } : {}),
  };
  if (subscribed) return;
  subscribed = true;
  for (const [name, handler] of CHANNELS) subscribe(name, handler);
}

export function stopHttpInstrumentation(): void {
  if (!subscribed) return;
  subscribed = false;
  sinks = {};
  for (const [name, handler] of CHANNELS) unsubscribe(name, handler);
}

// The HTTP layer: one undici request per attempt, errors mapped to the DatatureError hierarchy,
// retries per retry-policy.ts, and the secret key kept out of every message and inspectable field.
import type { Readable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import type { z } from 'zod';
import {
  DatatureApiError,
  DatatureConnectionError,
  DatatureError,
  DatatureResponseError,
  DatatureTimeoutError,
} from './errors';
import { parseRetryAfter, retryDelayMs, shouldRetry, sleep } from './retry-policy';
import { redactSignedUrl } from './signed-url';

/** Accepted by every client method as its last argument. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Whole-attempt timeout (connect, headers and body). */
  timeoutMs?: number;
  maxRetries?: number;
}

export interface TransportConfig {
  baseUrl: string;
  secretKey: string;
  timeoutMs: number;
  maxRetries: number;
  userAgent: string;
  dispatcher?: Dispatcher;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface ApiCall<T extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  json?: unknown;
  schema: T;
  /** POSTs that create something are not; everything else is. */
  idempotent: boolean;
}

export interface RawCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Called once per attempt, so a retry re-reads the file from the start. */
  body: () => Readable | AsyncGenerator<Uint8Array>;
}

const MAX_ERROR_BODY_CHARS = 500;

export class Transport {
  // A private field: util.inspect, JSON.stringify and Object.keys never see it.
  readonly #secretKey: string;
  private readonly config: Omit<TransportConfig, 'secretKey'>;

  constructor({ secretKey, ...config }: TransportConfig) {
    this.#secretKey = secretKey;
    this.config = config;
  }

  /** A JSON call to the API, authenticated with the secret key, parsed with `schema`. */
  async call<T extends z.ZodType>(call: ApiCall<T>, options: RequestOptions = {}): Promise<z.output<T>> {
    const url = new URL(this.config.baseUrl.replace(/\/+$/, '') + call.path);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const body = call.json === undefined ? undefined : JSON.stringify(call.json);
    const headers: Record<string, string> = {
      'secret-key': this.#secretKey,
      'user-agent': this.config.userAgent,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const text = await this.withRetries(call.idempotent, options, (signal) =>
      this.once(call.method, url.toString(), headers, body, signal),
    );
    let json: unknown;
    try {
      json = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new DatatureResponseError(`${call.method} ${call.path}: response is not JSON`);
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.length ? issue.path.join('.') : '(body)';
      throw new DatatureResponseError(`${call.method} ${call.path}: unexpected response, ${field}: ${issue.message}`);
    }
    return parsed.data;
  }

  /**
   * A request to a URL the API handed out (the signed upload URL): no secret key, since that host is
   * not the API. `timeoutMs` defaults to none here, a multi-GB upload takes what it takes; undici's
   * 300 s headers/body inactivity timeouts still catch a dead peer.
   */
  async raw(call: RawCall, options: RequestOptions = {}): Promise<void> {
    await this.withRetries(true, { ...options, timeoutMs: options.timeoutMs ?? 0 }, (signal) => {
      const body = call.body();
      const headers = { 'user-agent': this.config.userAgent, ...call.headers };
      // Closed in every case, so a failed attempt does not leak the open file.
      return this.once(call.method, call.url, headers, body, signal).finally(() =>
        'destroy' in body ? body.destroy() : body.return(undefined),
      );
    });
  }

  private async withRetries(
    idempotent: boolean,
    options: RequestOptions,
    attempt: (signal: AbortSignal | undefined) => Promise<string>,
  ): Promise<string> {
    const maxRetries = options.maxRetries ?? this.config.maxRetries;
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs;
    for (let retry = 0; ; retry++) {
      options.signal?.throwIfAborted();
      try {
        return await this.withTimeout(timeoutMs, options.signal, attempt);
      } catch (err) {
        if (retry >= maxRetries || !shouldRetry(err, idempotent)) throw err;
        await sleep(retryDelayMs(err, retry), options.signal);
      }
    }
  }

  private async withTimeout(
    timeoutMs: number,
    userSignal: AbortSignal | undefined,
    run: (signal: AbortSignal | undefined) => Promise<string>,
  ): Promise<string> {
    const timeoutSignal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [userSignal, timeoutSignal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      return await run(signal);
    } catch (err) {
      if (userSignal?.aborted) throw userSignal.reason;
      if (timeoutSignal?.aborted) throw new DatatureTimeoutError(`request timed out after ${timeoutMs} ms`);
      throw err;
    }
  }

  /** One attempt: the response text of a 2xx, else the mapped error. */
  private async once(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | Readable | AsyncGenerator<Uint8Array> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        // undici takes an async iterable body ("a string, a Buffer, a Readable stream, an iterable, or an async
        // iterable"), though its type declarations leave it out.
        body: body as string | Readable | undefined,
        signal,
        dispatcher: this.config.dispatcher,
      });
      text = await response.body.text();
    } catch (err) {
      if (signal?.aborted || err instanceof DatatureError) throw err;
      const code = socketErrorCode(err);
      const detail = this.redact(err instanceof Error ? err.message : String(err));
      throw new DatatureConnectionError(`${method} ${redactSignedUrl(url)} failed: ${detail}`, code, { cause: err });
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return text;
    const requestId = headerValue(response.headers['x-request-id']);
    const message = this.redact(errorMessage(text, response.statusCode));
    throw DatatureApiError.from(response.statusCode, message, requestId, parseRetryAfter(response.headers));
  }

  /** The server could echo anything back; never let the key travel on in an error. */
  private redact(text: string): string {
    return this.#secretKey ? text.split(this.#secretKey).join('[REDACTED]') : text;
  }
}

function errorMessage(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (body && typeof body.message === 'string' && body.message) return body.message;
  } catch {
    // not JSON: fall back to the text itself
  }
  const trimmed = text.trim().slice(0, MAX_ERROR_BODY_CHARS);
  return trimmed || `HTTP ${status}`;
}

function socketErrorCode(err: unknown): string | undefined {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++, e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  // undici wraps the OS error (ECONNRESET...) in a generic UND_ERR_SOCKET: prefer the specific one.
  return codes.find((code) => code !== 'UND_ERR_SOCKET') ?? codes[0];
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// The remote codec endpoint of Temporal's Web UI and CLI (the "codec server protocol"): `POST /encode` and
// `POST /decode` (also under a prefix, e.g. `/{namespace}/decode`, the CLI's templated endpoint) take and
// answer `{"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}` (proto3 JSON: every bytes
// field base64). The browser calls it from the UI's origin, so it answers CORS for the origins it is given,
// preflight included. With a token, every POST must carry `Authorization: Bearer <token>`.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { BodyTooLargeError, readBody, requestUrl, sendJson } from '../http-server';

/** What the Web UI sends: the JSON body's type, the namespace, and (with "pass access token") its bearer token. */
export const CODEC_ALLOWED_HEADERS = ['content-type', 'x-namespace', 'authorization'];
/** A history page's payloads in one call: generous, but bounded. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  host?: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** Origins allowed to call from a browser, e.g. the Web UI's `http://localhost:8233` or `https://cloud.temporal.io`. */
  corsOrigins?: string[];
  /** When set, POSTs need `Authorization: Bearer <token>`. */
  token?: string;
}

export interface CodecServer {
  /** e.g. `http://127.0.0.1:8081`: the Web UI's "codec endpoint". */
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const allowedOrigins = new Set((options.corsOrigins ?? []).map((origin) => origin.replace(/\/$/, '')));
  const server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: (err as Error).message });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const origin = request.headers.origin;
    const cors: Record<string, string> =
      origin && allowedOrigins.has(origin)
        ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' }
        : { vary: 'Origin' };
    const url = requestUrl(request);
    const action = url?.pathname.match(/\/(encode|decode)\/?$/)?.[1] as 'encode' | 'decode' | undefined;
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {
        ...cors,
        ...(cors['access-control-allow-origin']
          ? {
              'access-control-allow-methods': 'POST, OPTIONS',
              'access-control-allow-headers': CODEC_ALLOWED_HEADERS.join(', '),
              'access-control-max-age': '600',
            }
          : {}),
      });
      response.end();
      return;
    }
    if (!action) return sendJson(response, 404, { error: 'POST /encode or /decode' }, cors);
    if (request.method !== 'POST') return sendJson(response, 405, { error: 'POST only' }, { ...cors, allow: 'POST' });
    if (options.token !== undefined && !bearerMatches(request.headers.authorization, options.token)) {
      request.resume();
      return sendJson(response, 401, { error: 'missing or wrong bearer token' }, cors);
    }
    let payloads: Payload[];
    try {
      const body = JSON.parse((await readBody(request, MAX_BODY_BYTES)).toString('utf8')) as {
        payloads?: JsonPayload[];
      };
      if (!Array.isArray(body?.payloads)) throw new Error('expected {"payloads":[…]}');
      payloads = body.payloads.map(fromJson);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendJson(response, 413, { error: err.message }, { ...cors, connection: 'close' });
        request.destroy();
        return;
      }
      return sendJson(response, 400, { error: `bad request body: ${(err as Error).message}` }, cors);
    }
    try {
      const out = action === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      sendJson(response, 200, { payloads: out.map(toJson) }, cors);
    } catch (err) {
      sendJson(response, 400, { error: (err as Error).message }, cors);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function fromJson(payload: JsonPayload): Payload {
  if (typeof payload !== 'object' || payload === null) throw new Error('a payload is not an object');
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(String(value), 'base64')]),
  );
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [
        name,
        Buffer.from(value ?? []).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

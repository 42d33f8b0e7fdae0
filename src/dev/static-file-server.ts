import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { decodePathPart, requestUrl, sendJson } from '../http-server';

export interface StaticFileServer {
  url: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.json': 'application/json',
  '.ndjson': 'application/x-ndjson',
};

/** Serves the files of one directory over loopback, so the emulator can gather the sample images by URL. */
export function startStaticFileServer(options: {
  root: string;
  port?: number;
  host?: string;
  /** Sees each chunk of file bytes sent (the benches count what a reader downloaded). */
  onBytesSent?: (bytes: number) => void;
}): Promise<StaticFileServer> {
  const root = normalize(options.root);
  const server = createServer((request, response) => {
    // A bad request line (`GET //x:99999/`, `GET /%E0%A4%A`) must not throw out of this handler.
    const url = requestUrl(request);
    const pathname = url && decodePathPart(url.pathname);
    if (pathname === undefined) {
      request.resume();
      sendJson(response, 400, { message: `the request URL ${JSON.stringify(request.url)} cannot be parsed` });
      return;
    }
    const filePath = normalize(join(root, pathname));
    const stat = filePath.startsWith(root + sep) ? statOrUndefined(filePath) : undefined;
    if (!stat?.isFile() || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(stat ? 405 : 404).end();
      return;
    }
    const contentType = contentTypes[extname(filePath).toLowerCase()] ?? 'application/octet-stream';
    // Range applies to GET only (RFC 9110 §14.2).
    const range = request.method === 'GET' ? byteRangeOf(request.headers.range, stat.size) : undefined;
    if (range === 'unsatisfiable') {
      response.writeHead(416, { 'content-range': `bytes */${stat.size}` }).end();
      return;
    }
    // As object stores answer: a range asked for is sent alone (206), as a shard of a sharded run asks.
    const { start, end } = range ?? { start: 0, end: stat.size - 1 };
    response.writeHead(range ? 206 : 200, {
      'content-type': contentType,
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      ...(range && { 'content-range': `bytes ${start}-${end}/${stat.size}` }),
    });
    if (request.method === 'HEAD' || end < start) response.end();
    // pipeline: a client that goes away mid-file closes the file too.
    else {
      const file = createReadStream(filePath, { start, end });
      const { onBytesSent } = options;
      if (onBytesSent) file.on('data', (chunk) => onBytesSent(chunk.length));
      pipeline(file, response, () => {});
    }
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * One `Range: bytes=a-b` or `bytes=a-` of a file of `size` bytes (both ends inclusive, as HTTP has them); anything
 * else (none, several ranges, a suffix range, an end before the start) is the whole file, as HTTP allows.
 */
function byteRangeOf(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const asked = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!asked) return undefined;
  const start = Number(asked[1]);
  const end = asked[2] === '' ? size - 1 : Math.min(Number(asked[2]), size - 1);
  if (asked[2] !== '' && Number(asked[2]) < start) return undefined; // not a valid range: ignored
  return start >= size ? 'unsatisfiable' : { start, end };
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

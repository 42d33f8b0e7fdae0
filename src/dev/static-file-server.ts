import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
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
    response.writeHead(200, {
      'content-type': contentTypes[extname(filePath).toLowerCase()] ?? 'application/octet-stream',
      'content-length': stat.size,
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(filePath).pipe(response);
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

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

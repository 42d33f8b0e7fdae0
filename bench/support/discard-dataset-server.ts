// A bare loopback stand-in for the dataset API, for memory measurements: it lists no dataset, answers the
// create POST with a signed upload URL of its own, and takes the PUT hashing and counting the bytes,
// keeping none. Used by bench/upload-memory.ts (--discard) and test/activities/upload-memory.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Crc32c } from '../../src/datature-api/crc32c';

export interface DiscardDatasetServer {
  url: string;
  /** What the last PUT brought: its size, its CRC32C (base64), and the CRC32C the POST declared. */
  received: { bytes: number; crc32c: string; declaredCrc32c: string };
  close(): Promise<void>;
}

export async function startDiscardDatasetServer(): Promise<DiscardDatasetServer> {
  const received = { bytes: 0, crc32c: '', declaredCrc32c: '' };
  const server: Server = createServer((req, res) => {
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET') {
      req.resume();
      return json({ data: [], nextPage: null, prevPage: null });
    }
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      req.on('end', () => {
        received.declaredCrc32c = JSON.parse(body).spec?.source?.crc32c ?? '';
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
        json({
          id: 'dataset_discard',
          object: 'dataset',
          name: 'discard',
          projectId: 'proj_discard',
          expiryTime: Date.now() + 86_400_000,
          status: {
            overview: 'Waiting',
            message: 'Waiting',
            updateTime: Date.now(),
            source: {
              kind: 'UploadedNewlineDelimitedJsonFile',
              uploadUrl: { method: 'PUT', url, headers: {}, expiresAtTime: 0 },
            },
            itemCount: 0,
          },
          createDate: Date.now(),
          updateDate: Date.now(),
        });
      });
      return;
    }
    const hash = new Crc32c();
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      Object.assign(received, { bytes, crc32c: hash.base64() });
      res.writeHead(200, { 'x-goog-hash': `crc32c=${hash.base64()}` });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

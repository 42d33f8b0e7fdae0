import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);

/** A loopback static file server answering every `/items/<n>.png` with the same small PNG, for the emulator to gather. */
export async function startItemHost(): Promise<{
  url: string;
  itemUrl(index: number): string;
  close(): Promise<void>;
}> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && /^\/items\/\d+\.png$/.test(request.url ?? '')) {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    itemUrl: (index) => `${url}/items/${index}.png`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// The dev stack's file server answers byte ranges as object stores do (a shard of a sharded run asks for its
// bytes): one range alone with 206 and Content-Range, past the end 416, anything else the whole file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { type StaticFileServer, startStaticFileServer } from '../../src/dev/static-file-server';

const TEXT = '0123456789abcdefghij';
let dir: string;
let server: StaticFileServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'static-files-'));
  writeFileSync(join(dir, 'file.ndjson'), TEXT);
  server = await startStaticFileServer({ root: dir });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(range?: string, method: 'GET' | 'HEAD' = 'GET') {
  const response = await request(`${server.url}/file.ndjson`, { method, headers: range ? { range } : {} });
  return {
    status: response.statusCode,
    contentRange: response.headers['content-range'],
    body: await response.body.text(),
  };
}

test.each([
  ['bytes=3-6', 206, 'bytes 3-6/20', '3456'],
  ['bytes=15-', 206, 'bytes 15-19/20', 'fghij'],
  ['bytes=15-99', 206, 'bytes 15-19/20', 'fghij'],
  ['bytes=20-', 416, 'bytes */20', ''],
  ['bytes=6-3', 200, undefined, TEXT],
  ['bytes=0-1,4-5', 200, undefined, TEXT],
  [undefined, 200, undefined, TEXT],
])('Range %s: %i', async (range, status, contentRange, body) => {
  expect(await get(range)).toEqual({ status, contentRange, body });
});

test('HEAD ignores Range (it applies to GET only)', async () => {
  expect(await get('bytes=3-6', 'HEAD')).toEqual({ status: 200, contentRange: undefined, body: '' });
});

test('onBytesSent sees the file bytes sent, only those of the range', async () => {
  let sent = 0;
  const counted = await startStaticFileServer({ root: dir, onBytesSent: (bytes) => (sent += bytes) });
  try {
    const response = await request(`${counted.url}/file.ndjson`, { headers: { range: 'bytes=3-6' } });
    expect(await response.body.text()).toBe('3456');
    expect(sent).toBe(4);
  } finally {
    await counted.close();
  }
});

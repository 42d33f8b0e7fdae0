// A request line that no URL parser accepts must be answered 400 and must not take the server down:
// raw sockets, because HTTP clients refuse to send such paths.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStaticFileServer } from '../../src/dev/static-file-server';
import { type RunningEmulator, startEmulator } from '../../src/emulator';

interface RawResponse {
  status: number;
  body: string;
}

/** Sends one request as written (path untouched) and reads the answer; status 0 when none came. */
function rawRequest(baseUrl: string, requestLine: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { port } = new URL(baseUrl);
  const head = [requestLine, 'Host: x', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: status ? Number(status[1]) : 0, body: text.split('\r\n\r\n').slice(1).join('\r\n\r\n') });
    };
    socket.setTimeout(3_000, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
  });
}

const BAD_URLS = ['GET //x:99999/ HTTP/1.1', 'GET http://x:99999/ HTTP/1.1'];

describe('emulator: malformed request lines', () => {
  let emulator: RunningEmulator;
  const auth = () => ({ 'Secret-Key': emulator.secretKey });

  beforeAll(async () => {
    emulator = await startEmulator({});
  });
  afterAll(() => emulator.close());

  const stillServes = async () => {
    const ok = await rawRequest(emulator.url, `GET /projects/${emulator.projectId}/batch/webhooks HTTP/1.1`, auth());
    expect(ok.status).toBe(200);
  };

  it.each(BAD_URLS)('answers 400 to an unparsable URL (%s) and keeps serving', async (line) => {
    const answer = await rawRequest(emulator.url, line, auth());
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.stringMatching(/URL/) });
    await stillServes();
  });

  it('answers 400 to a bad percent escape in the project id', async () => {
    const answer = await rawRequest(emulator.url, 'GET /projects/%E0%A4%A/batch/webhooks HTTP/1.1', auth());
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.stringMatching(/escape/) });
    await stillServes();
  });

  it('answers 400 to a bad percent escape in a resource id', async () => {
    const line = `GET /projects/${emulator.projectId}/batch/webhooks/%E0%A4%A HTTP/1.1`;
    const answer = await rawRequest(emulator.url, line, auth());
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.stringMatching(/escape/) });
    await stillServes();
  });

  it('still decodes a well-formed escape (unknown id stays a 404)', async () => {
    const line = `GET /projects/${emulator.projectId}/batch/webhooks/%41bc HTTP/1.1`;
    const answer = await rawRequest(emulator.url, line, auth());
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({ message: 'webhook Abc not found' });
  });
});

// The dev stack's item host (src/dev/static-file-server.ts): the emulator gathers the sample images from it.
describe('static file server: malformed request lines', () => {
  let root: string;
  let server: Awaited<ReturnType<typeof startStaticFileServer>>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'static-files-'));
    writeFileSync(join(root, 'a.json'), '{}');
    server = await startStaticFileServer({ root });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it.each([...BAD_URLS, 'GET /%E0%A4%A HTTP/1.1'])('answers 400 to %s and keeps serving', async (line) => {
    const answer = await rawRequest(server.url, line);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ message: expect.any(String) });
    const ok = await rawRequest(server.url, 'GET /a.json HTTP/1.1');
    expect(ok).toEqual({ status: 200, body: '{}' });
  });

  it('still serves an escaped file name and 404s a missing one', async () => {
    writeFileSync(join(root, 'b c.json'), '[]');
    expect(await rawRequest(server.url, 'GET /b%20c.json HTTP/1.1')).toEqual({ status: 200, body: '[]' });
    expect((await rawRequest(server.url, 'GET /nope.json HTTP/1.1')).status).toBe(404);
  });
});

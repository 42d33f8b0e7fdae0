// The codec server as the Web UI and CLI call it: proto3 JSON payloads (bytes as base64), CORS for the UI's
// origin (preflight with the headers the UI sends), and the optional bearer token.
import { randomBytes } from 'node:crypto';
import { DefaultPayloadConverter } from '@temporalio/common';
import { request } from 'undici';
import { type CodecServer, EncryptionCodec, startCodecServer } from '../../src/codec';

const UI_ORIGIN = 'http://127.0.0.1:8233';
const converter = new DefaultPayloadConverter();
const codec = new EncryptionCodec([{ id: 'k1', key: randomBytes(32) }]);
const b64 = (text: string) => Buffer.from(text).toString('base64');
interface CodecAnswer {
  payloads: { metadata: Record<string, string>; data: string }[];
  error?: string;
}
let open: CodecServer;
let guarded: CodecServer;

beforeAll(async () => {
  open = await startCodecServer({ codec, corsOrigins: [UI_ORIGIN] });
  guarded = await startCodecServer({ codec, corsOrigins: [UI_ORIGIN], token: 'sesame' });
});
afterAll(async () => {
  await open?.close();
  await guarded?.close();
});

async function post(server: CodecServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI_ORIGIN, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, headers: response.headers, json: (await response.body.json()) as CodecAnswer };
}

test('encode then decode over HTTP gives back the JSON payload; bytes travel as base64', async () => {
  const plain = { metadata: { encoding: b64('json/plain') }, data: b64('{"url":"https://bucket.example.com/x"}') };
  const encoded = await post(open, '/encode', { payloads: [plain] });
  expect(encoded.status).toBe(200);
  expect(Buffer.from(encoded.json.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  expect(JSON.stringify(encoded.json)).not.toContain(b64('bucket'));
  expect(encoded.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  // The CLI's templated endpoint puts the namespace in the path.
  const decoded = await post(open, '/default/decode', encoded.json);
  expect(decoded.status).toBe(200);
  expect(decoded.json.payloads).toEqual([plain]);
});

test('a payload written by the SDK decodes through the server', async () => {
  const [encrypted] = await codec.encode([converter.toPayload({ n: 1 })]);
  const body = {
    payloads: [
      {
        metadata: Object.fromEntries(
          Object.entries(encrypted.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
        ),
        data: Buffer.from(encrypted.data!).toString('base64'),
      },
    ],
  };
  const decoded = await post(open, '/decode', body);
  expect(Buffer.from(decoded.json.payloads[0].data, 'base64').toString()).toBe('{"n":1}');
});

test('preflight from the UI origin allows POST with the headers the Web UI sends; another origin gets no CORS', async () => {
  const preflight = await request(`${open.url}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace,authorization',
    },
  });
  await preflight.body.dump();
  expect(preflight.statusCode).toBe(204);
  expect(preflight.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  expect(preflight.headers['access-control-allow-credentials']).toBe('true');
  expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
  const allowed = String(preflight.headers['access-control-allow-headers']).split(/,\s*/);
  expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization']));

  const stranger = await request(`${open.url}/decode`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
  });
  await stranger.body.dump();
  expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
});

test('with a token: no or a wrong bearer is 401 (with CORS, so the UI can show it), the right one works', async () => {
  const body = { payloads: [] };
  expect((await post(guarded, '/decode', body)).status).toBe(401);
  const wrong = await post(guarded, '/decode', body, { authorization: 'Bearer open' });
  expect(wrong.status).toBe(401);
  expect(wrong.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  expect((await post(guarded, '/decode', body, { authorization: 'Bearer sesame' })).status).toBe(200);
});

test('bad requests: unknown path 404, GET 405, a body without payloads 400, an unknown key id 400 saying so', async () => {
  expect((await post(open, '/other', {})).status).toBe(404);
  const get = await request(`${open.url}/decode`);
  await get.body.dump();
  expect(get.statusCode).toBe(405);
  expect((await post(open, '/decode', { nope: 1 })).status).toBe(400);
  const [foreign] = await new EncryptionCodec([{ id: 'k7', key: randomBytes(32) }]).encode([converter.toPayload(1)]);
  const answer = await post(open, '/decode', {
    payloads: [
      {
        metadata: Object.fromEntries(
          Object.entries(foreign.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
        ),
        data: Buffer.from(foreign.data!).toString('base64'),
      },
    ],
  });
  expect(answer.status).toBe(400);
  expect(answer.json.error).toContain('unknown key id "k7"');
});

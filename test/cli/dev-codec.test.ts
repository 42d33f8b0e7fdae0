// `dev --codec` and `codec-server`, as a user runs them: the stack encrypts with a key file it makes in its data
// dir, the printed env lets the other commands read the runs, the Web UI is told the codec endpoint, and the
// stand-alone codec server honours its CORS origin and token.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { addCodecKey } from '../../src/codec';
import { temporalCliPath } from '../../src/dev/binaries';
import { DEV_DEPLOYMENT_ID } from '../../src/emulator';
import { cleanEnv, runCli, spawnCli } from './run-cli';
import { exitOf, firstJsonDocument, livePids, processesInGroups } from './stack-helpers';

interface DevOutput {
  pids: number[];
  fileServerUrl: string;
  receiverUrl: string;
  webhookSecretFile: string;
  uiUrl: string;
  codecEndpoint?: string;
  codecKeysFile?: string;
  env: Record<string, string>;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('dev --codec', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cli-dev-codec-'));
  let dev: ChildProcess;
  let stack: DevOutput;

  beforeAll(async () => {
    dev = spawnCli(['dev', '--codec', '--json', '--data-dir', dataDir]);
    stack = await firstJsonDocument<DevOutput>(dev);
  });
  afterAll(async () => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  });

  test('makes a key file, encrypts the runs, and the printed env reads them back', async () => {
    expect(stack.codecKeysFile).toBe(join(dataDir, 'codec-keys.json'));
    expect(statSync(stack.codecKeysFile!).mode & 0o777).toBe(0o600);
    expect(stack.env.DATATURE_BATCH_CODEC_KEYS).toBe(stack.codecKeysFile);
    const env = cleanEnv(stack.env);
    const items = join(dataDir, 'items.ndjson');
    writeFileSync(items, `{"kind":"Image","url":"${stack.fileServerUrl}/cell-001.png"}\n`);
    const webhook = await runCli(
      [
        '--json',
        'webhooks',
        'create',
        '--name',
        'r',
        '--endpoint',
        stack.receiverUrl,
        '--secret-file',
        stack.webhookSecretFile,
      ],
      env,
    );
    const webhookId = JSON.parse(webhook.stdout).id;
    const run = await runCli(
      ['run', items, '--deployment', DEV_DEPLOYMENT_ID, '--webhook', webhookId, '--workflow-id', 'codec-dev', '--wait'],
      env,
    );
    expect(run.code).toBe(0);
    const history = execFileSync(
      temporalCliPath(),
      ['workflow', 'show', '-w', 'codec-dev', '--address', stack.env.TEMPORAL_ADDRESS, '-o', 'json'],
      { encoding: 'utf8' },
    );
    expect(history).toContain(b64('binary/encrypted'));
    // The input's path and the log file's are in the data dir: neither shows, even base64-decoded.
    const base64Values = history.match(/"[A-Za-z0-9+/]{8,}={0,2}"/g) ?? [];
    const readable = [
      history,
      ...base64Values.map((value) => Buffer.from(value.slice(1, -1), 'base64').toString('latin1')),
    ];
    expect(readable.filter((text) => text.includes(dataDir))).toEqual([]);
    const result = await runCli(['--json', 'result', 'codec-dev'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'completed', itemCount: 1 });
    // Without the key file the CLI cannot read what it gets.
    const { DATATURE_BATCH_CODEC_KEYS: _, ...withoutKeys } = stack.env;
    const blind = await runCli(['--json', 'result', 'codec-dev'], cleanEnv(withoutKeys));
    expect(blind.code).toBe(1);
  }, 120_000);

  test('the Web UI is pointed at the codec server, which answers the UI origin’s preflight', async () => {
    const settings = await request(`${stack.uiUrl}/api/v1/settings`);
    const body = (await settings.body.json()) as { Codec?: { Endpoint?: string } };
    expect(body.Codec?.Endpoint).toBe(stack.codecEndpoint);
    const preflight = await request(`${stack.codecEndpoint}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: stack.uiUrl,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    await preflight.body.dump();
    expect(preflight.headers['access-control-allow-origin']).toBe(stack.uiUrl);
  });

  test('Ctrl-C stops the codec server with the rest', async () => {
    const groups = stack.pids.filter((pid) => pid !== dev.pid);
    dev.kill('SIGINT');
    expect(await exitOf(dev)).toBe(130);
    expect(livePids(stack.pids)).toEqual([]);
    expect(processesInGroups(groups)).toEqual([]);
    await expect(request(`${stack.codecEndpoint}/decode`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});

test('codec-server: CORS for the given origin, the token from --token-file, a bad key file is a usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-codec-server-'));
  const keys = join(dir, 'keys.json');
  addCodecKey(keys);
  writeFileSync(join(dir, 'token'), 'sesame\n');
  const server = spawnCli(
    [
      '--json',
      'codec-server',
      '--port',
      '0',
      '--keys',
      keys,
      '--cors-origin',
      'https://ui.example.com',
      '--token-file',
      join(dir, 'token'),
    ],
    cleanEnv(),
  );
  try {
    const { url } = await firstJsonDocument<{ url: string }>(server);
    const post = (authorization?: string) =>
      request(`${url}/encode`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: 'https://ui.example.com',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('1') }] }),
      });
    const denied = await post();
    await denied.body.dump();
    expect(denied.statusCode).toBe(401);
    const allowed = await post('Bearer sesame');
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ui.example.com');
    await allowed.body.dump();
  } finally {
    server.kill('SIGTERM');
    await exitOf(server);
  }
  writeFileSync(keys, '{"keys":[{"id":"k1","key":"c2hvcnQ="}]}');
  const bad = await runCli(['codec-server', '--keys', keys]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('keys[0].key (id "k1") is 5 bytes, AES-256 needs 32');
});

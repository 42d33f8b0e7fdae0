import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatatureClient } from '../../src/datature-api';
import { type StaticFileServer, startStaticFileServer } from '../../src/dev/static-file-server';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { cleanEnv, runCli } from './run-cli';

/** The direct API commands against a real emulator, over loopback. */
describe('webhooks, datasets and jobs commands', () => {
  let emulator: RunningEmulator;
  let images: StaticFileServer;
  let endpoint: Server;
  let endpointUrl: string;
  let deliveries = 0;
  let env: NodeJS.ProcessEnv;
  let datatureApi: DatatureClient;
  const dir = mkdtempSync(join(tmpdir(), 'cli-api-'));

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, host: '127.0.0.1', modelLatencyMs: 1, tickIntervalMs: 50 });
    images = await startStaticFileServer({ root: join(__dirname, '..', '..', 'samples', 'images') });
    endpoint = createServer((request, response) => {
      request.resume().on('end', () => {
        deliveries += 1;
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`;
    env = cleanEnv({
      DATATURE_API_BASE_URL: emulator.url,
      DATATURE_PROJECT_ID: emulator.projectId,
      DATATURE_SECRET_KEY: emulator.secretKey,
    });
    datatureApi = new DatatureClient({
      secretKey: emulator.secretKey,
      projectId: emulator.projectId,
      baseUrl: emulator.url,
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => endpoint.close(resolve));
    await images.close();
    await emulator.close();
  });

  const cli = async (...args: string[]) => {
    const result = await runCli(['--json', ...args], env);
    if (result.code !== 0) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  test('webhooks: create with a generated secret file, list, get, update, update-secret, test, delete', async () => {
    const secretFile = join(dir, 'hook.secret');
    const created = await cli(
      'webhooks',
      'create',
      '--name',
      'sink',
      '--endpoint',
      endpointUrl,
      '--secret-file',
      secretFile,
    );
    expect(created.id).toMatch(/^webhook_/);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8').trim();
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    expect(JSON.stringify(created)).not.toContain(secret);

    expect((await cli('webhooks', 'list')).map((webhook: { id: string }) => webhook.id)).toContain(created.id);
    expect((await cli('webhooks', 'get', created.id)).endpoint).toBe(endpointUrl);
    const updated = await cli('webhooks', 'update', created.id, '--max-retries', '1', '--max-retry-delay', '500');
    expect(updated.retries).toEqual({ maxRetries: 1, maxRetryDelay: 500 });

    const rotatedFile = join(dir, 'rotated.secret');
    writeFileSync(rotatedFile, Buffer.alloc(32, 7).toString('base64'));
    const rotated = await runCli(['webhooks', 'update-secret', created.id, '--secret-file', rotatedFile], env);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).not.toContain(Buffer.alloc(32, 7).toString('base64'));

    const before = deliveries;
    const tested = await cli('webhooks', 'test', created.id);
    expect(tested.status).toBe('Ok');
    expect(deliveries).toBe(before + 1);

    expect(await cli('webhooks', 'delete', created.id)).toMatchObject({ deleted: true });
    const gone = await runCli(['webhooks', 'get', created.id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('datasets and jobs: create, list, get, logs, cancel, delete', async () => {
    const ndjson = join(dir, 'items.ndjson');
    writeFileSync(
      ndjson,
      ['cell-001.png', 'cell-002.png', 'cell-003.png']
        .map((name) => `{"kind":"Image","url":"${images.url}/${name}"}\n`)
        .join(''),
    );
    const dataset = await cli('datasets', 'create', '--name', 'three-cells', ndjson);
    expect(dataset.status.itemCount).toBe(3);
    const listed = await cli('datasets', 'list');
    expect(listed.map((item: { id: string }) => item.id)).toContain(dataset.id);
    const got = await cli('datasets', 'get', dataset.id);
    expect(got.name).toBe('three-cells');

    // The signed upload URL is a credential: its query never reaches the output, --json or not.
    const signed = (await datatureApi.datasets.get(dataset.id)).status.source.uploadUrl.url;
    expect(signed).toMatch(/\?.*signature=/);
    const masked = `${signed.slice(0, signed.indexOf('?'))}?[REDACTED]`;
    for (const printed of [dataset, got, listed.find((item: { id: string }) => item.id === dataset.id)]) {
      expect(printed.status.source.uploadUrl.url).toBe(masked);
    }
    const human = await runCli(['datasets', 'get', dataset.id], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('three-cells');
    for (const output of [human, await runCli(['--json', 'datasets', 'list'], env)]) {
      expect(output.stdout).not.toContain('signature=');
    }

    const webhook = await cli(
      'webhooks',
      'create',
      '--name',
      'jobs-sink',
      '--endpoint',
      endpointUrl,
      '--secret-file',
      join(dir, 'jobs.secret'),
    );
    const job = await cli(
      'jobs',
      'create',
      '--name',
      'three',
      '--dataset',
      dataset.id,
      '--webhook',
      webhook.id,
      '--deployment',
      emulator.deploymentId,
    );
    expect(job.id).toMatch(/^batchjob_/);
    const finished = await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 100, timeoutMs: 30_000 });
    expect(finished.status.items.delivered).toBe(3);

    expect((await cli('jobs', 'list')).map((item: { id: string }) => item.id)).toContain(job.id);
    expect((await cli('jobs', 'get', job.id)).status.items.delivered).toBe(3);

    const logs = await runCli(['jobs', 'logs', job.id], env);
    expect(logs.code).toBe(0);
    const entries = logs.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.status === 'Delivered')).toHaveLength(3);
    const logsFile = join(dir, 'job.logs.ndjson');
    expect((await runCli(['jobs', 'logs', job.id, '--output', logsFile], env)).code).toBe(0);
    expect(readFileSync(logsFile, 'utf8').trim().split('\n')).toHaveLength(entries.length);

    // A finished job cannot be cancelled: the API's 409, one line, exit 1.
    const cancelled = await runCli(['jobs', 'cancel', job.id], env);
    expect(cancelled).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: job ${job.id} is Reached; only a job that has not ended can be changed\n`,
    });
    expect(await cli('jobs', 'delete', job.id)).toMatchObject({ deleted: true });
    expect(await cli('datasets', 'delete', dataset.id)).toMatchObject({ deleted: true });
  });

  test('jobs cancel stops a running job: items in flight finish, no new item starts', async () => {
    // Items from a host that holds every image until released: the job is running (an item is being
    // gathered) as soon as the first request arrives, and stays so until the test releases them.
    const png = readFileSync(join(__dirname, '..', '..', 'samples', 'images', 'cell-001.png'));
    const held: ServerResponse[] = [];
    let firstGather: () => void = () => {};
    const gathering = new Promise<void>((resolve) => {
      firstGather = resolve;
    });
    const host = createServer((_request, response) => {
      held.push(response);
      firstGather();
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    try {
      const ndjson = join(dir, 'held.ndjson');
      const itemCount = 40; // more than the 4 replicas x 4 items in flight
      writeFileSync(
        ndjson,
        Array.from({ length: itemCount }, (_, n) => `{"kind":"Image","url":"${hostUrl}/${n}.png"}\n`).join(''),
      );
      const dataset = await cli('datasets', 'create', '--name', 'held-cells', ndjson);
      const webhook = await cli(
        'webhooks',
        'create',
        '--name',
        'cancel-sink',
        '--endpoint',
        endpointUrl,
        '--secret-file',
        join(dir, 'cancel.secret'),
      );
      const job = await cli(
        'jobs',
        'create',
        '--name',
        'held',
        '--dataset',
        dataset.id,
        '--webhook',
        webhook.id,
        '--deployment',
        emulator.deploymentId,
      );
      await gathering;

      const cancelled = await cli('jobs', 'cancel', job.id);
      expect(cancelled.id).toBe(job.id);
      expect(cancelled.status.cancelledAt).toEqual(expect.any(Number));
      expect(cancelled.status.overview).not.toMatch(/^(Reached|Failed)$/); // it was running when cancelled

      for (const response of held.splice(0)) response.writeHead(200, { 'content-type': 'image/png' }).end(png);
      const ended = await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 100, timeoutMs: 60_000 });
      expect(ended.status.overview).toBe('Reached');
      expect(ended.status.message).toBe('Cancelled');
      expect(ended.status.items.delivered).toBeGreaterThan(0); // the ones in flight finished
      expect(ended.status.items.delivered).toBeLessThan(itemCount); // nothing new started
      expect(held).toHaveLength(0); // no item was gathered after the cancel
    } finally {
      for (const response of held) response.destroy();
      host.closeAllConnections();
      await new Promise((resolve) => host.close(resolve));
    }
  });

  test('jobs create needs exactly one of --deployment and --artifact (exit 2)', async () => {
    const result = await runCli(
      ['jobs', 'create', '--name', 'x', '--dataset', 'dataset_1', '--webhook', 'webhook_1'],
      env,
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: give exactly one of --deployment and --artifact');
  });

  test('a wrong secret key is a one-line failure (exit 1) that does not echo the key', async () => {
    const result = await runCli(['webhooks', 'list'], { ...env, DATATURE_SECRET_KEY: 'wrong-key-12345' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain('wrong-key-12345');
  });
});

// 5,000 log entries stamped with one millisecond (the emulator's clock frozen while the job runs), read
// back through every reader: the client's allLogs, the `jobs logs` CLI command, and the workflow's log
// collection activity, fresh and resumed from a heartbeat cursor in the middle of that millisecond.
// Each must return every entry exactly once although five pages share one createTime.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { DatatureClient, generateWebhookSecret, type JobLogEntry } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import type { LogsSummary } from '../../src/workflows/definitions';
import { cleanEnv, runCli } from '../cli/run-cli';
import { type LoopbackServer, startLoopbackServer } from '../datature-api/helpers/loopback-server';

const ENTRIES = 5000;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);

let emulator: RunningEmulator;
let outside: LoopbackServer;
let datatureApi: DatatureClient;
let dir: string;
let jobId: string;
let millisecond: number;

async function admin(path: string, body: unknown) {
  const response = await fetch(`${emulator.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  outside = await startLoopbackServer((req, res) => {
    if (req.method === 'GET') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else res.writeHead(204).end();
  });
  emulator = await startEmulator({ port: 0, adminRoutes: true, tickIntervalMs: 20, modelLatencyMs: 0 });
  datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  dir = mkdtempSync(join(tmpdir(), 'logs-same-ms-'));
  const items = Array.from({ length: ENTRIES }, (_, i) => ({ kind: 'Image' as const, url: `${outside.url}/${i}.png` }));
  const dataset = await datatureApi.datasets.create({ name: 'same-ms', source: items });
  await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 50 });
  const webhook = await datatureApi.webhooks.create({
    name: 'sink',
    endpoint: `${outside.url}/hook`,
    secret: generateWebhookSecret(),
  });
  await admin('/_emulator/clock', { frozen: true });
  const job = await datatureApi.jobs.create({
    name: 'same-ms',
    datasetId: dataset.id,
    deploymentId: emulator.deploymentId,
    webhookIds: [webhook.id],
  });
  jobId = job.id;
  await datatureApi.jobs.waitUntilDone(jobId, { intervalMs: 100, timeoutMs: 100_000 });
  await admin('/_emulator/clock', { frozen: false });
  outside.requests.length = 0;
}, 120_000);

afterAll(async () => {
  await emulator?.close();
  await outside?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expectEveryEntryOnce(ids: string[]) {
  expect(ids).toHaveLength(ENTRIES);
  expect(new Set(ids).size).toBe(ENTRIES);
}

function fileEntries(path: string): JobLogEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JobLogEntry);
}

test('the emulator stamps them all with one millisecond; one page holds at most 1000', async () => {
  const page = await datatureApi.jobs.logs(jobId);
  expect(page.entries).toHaveLength(1000);
  millisecond = page.entries[0].createTime;
  expect(page.entries.every((entry) => entry.createTime === millisecond)).toBe(true);
});

test('allLogs returns each entry once, newest first, with no partial millisecond', async () => {
  const partial: number[] = [];
  const all: JobLogEntry[] = [];
  for await (const entry of datatureApi.jobs.allLogs(jobId, { onPartialMillisecond: (t) => partial.push(t) })) {
    all.push(entry);
  }
  expectEveryEntryOnce(all.map((entry) => entry.id));
  expect(all.every((entry) => entry.createTime === millisecond)).toBe(true);
  expect(partial).toEqual([]);
});

test('the jobs logs command writes each entry once', async () => {
  const output = join(dir, 'cli.logs.ndjson');
  const result = await runCli(
    ['jobs', 'logs', jobId, '--output', output],
    cleanEnv({
      DATATURE_API_BASE_URL: emulator.url,
      DATATURE_PROJECT_ID: emulator.projectId,
      DATATURE_SECRET_KEY: emulator.secretKey,
    }),
  );
  expect(result.stderr).not.toMatch(/warning/);
  expect(result.code).toBe(0);
  expectEveryEntryOnce(fileEntries(output).map((entry) => entry.id));
});

test('the log collection activity writes each entry once, also when resumed inside the millisecond', async () => {
  const activities = createActivities({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
    logsDir: join(dir, 'logs'),
  });
  const request = { jobId, fileName: 'activity.logs.ndjson' };
  const complete: LogsSummary = await new MockActivityEnvironment().run(activities.collectLogs, request);
  expect(complete.entries).toBe(ENTRIES);
  expect(complete.partialMilliseconds).toBeUndefined();
  const lines = readFileSync(complete.filePath, 'utf8').split('\n').filter(Boolean);
  expectEveryEntryOnce(lines.map((line) => (JSON.parse(line) as JobLogEntry).id));

  // A retry after a heartbeat at 2,500 entries, all of them at the one millisecond.
  const confirmed = lines.slice(0, 2500);
  const cursor = {
    bytes: Buffer.byteLength(confirmed.map((line) => `${line}\n`).join('')),
    oldestTime: millisecond,
    idsAtOldestTime: confirmed.map((line) => (JSON.parse(line) as JobLogEntry).id),
    summary: { entries: 2500, byStatus: { Delivered: 2500 }, byLevel: { Info: 2500 }, firstFailures: [] },
  };
  const retry = new MockActivityEnvironment({ heartbeatDetails: cursor, attempt: 2 });
  const resumed: LogsSummary = await retry.run(activities.collectLogs, request);
  expect(resumed.entries).toBe(ENTRIES);
  expect(readFileSync(resumed.filePath, 'utf8').split('\n').filter(Boolean)).toEqual(lines);
});

describe('a server without the emulator beforeId (as the hosted API documents it)', () => {
  // 1500 entries at one millisecond, then 10 older: only the first page of that millisecond can be read.
  const at = 1_700_000_000_000;
  const entry = (i: number, createTime: number): JobLogEntry => ({
    kind: 'ItemPredicted',
    createTime,
    id: i.toString(16).padStart(24, '0'),
    level: 'Info',
    item: `https://a.test/${i}.jpg`,
    status: 'Delivered',
    timeMs: 1,
    reason: '',
  });
  const all = [
    ...Array.from({ length: 1500 }, (_, i) => entry(i, at)),
    ...Array.from({ length: 10 }, (_, i) => entry(1500 + i, at - 1 - i)),
  ];
  let hosted: LoopbackServer;

  beforeAll(async () => {
    hosted = await startLoopbackServer((req, res) => {
      const query = new URL(req.url, 'http://x').searchParams;
      const before = query.has('beforeTime') ? Number(query.get('beforeTime')) : Number.POSITIVE_INFINITY;
      const entries = all.filter((e) => e.createTime < before).slice(0, Number(query.get('maxEntries') ?? 1000));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'batchjoblog_1', object: 'batch_job_log', projectId: 'proj_1', entries }));
    });
  });
  afterAll(() => hosted?.close());

  test('the collection activity says which millisecond is incomplete in its summary', async () => {
    const activities = createActivities({
      secretKey: 'k',
      projectId: 'proj_1',
      baseUrl: hosted.url,
      logsDir: join(dir, 'hosted-logs'),
    });
    const summary: LogsSummary = await new MockActivityEnvironment().run(activities.collectLogs, {
      jobId: 'batchjob_1',
      fileName: 'hosted.logs.ndjson',
    });
    expect(summary.entries).toBe(1010);
    expect(summary.partialMilliseconds).toEqual([at]);
    expect(new Set(fileEntries(summary.filePath).map((e) => e.id)).size).toBe(1010);
  });

  test('the jobs logs command warns on stderr', async () => {
    const output = join(dir, 'hosted-cli.logs.ndjson');
    const result = await runCli(
      ['jobs', 'logs', 'batchjob_1', '--output', output],
      cleanEnv({ DATATURE_API_BASE_URL: hosted.url, DATATURE_PROJECT_ID: 'proj_1', DATATURE_SECRET_KEY: 'k' }),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`warning: more than one page of entries at ${new Date(at).toISOString()}`);
    expect(fileEntries(output)).toHaveLength(1010);
  });
});

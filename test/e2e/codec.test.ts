// Payload encryption end to end (docs/codec.md), on the real dev server with its Web UI: the stored history and
// schedule hold no URL or path in plain text, the CLI still reads everything, a worker without the key fails its
// workflow tasks saying so and the run finishes once a worker with the key comes, a rotation keeps old runs
// readable, and a real browser shows the run's input decoded through the codec server.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { Browser } from 'playwright-core';
import { type CodecKey, codecDataConverter, EncryptionCodec, METADATA_KEY_ID } from '../../src/codec';
import { temporalCliPath } from '../../src/dev/binaries';
import { getProgress, startBatchPrediction } from '../../src/run-client';
import { createBatchSchedule, deleteBatchSchedule, describeBatchSchedule } from '../../src/schedules';
import { createWorker } from '../../src/worker';
import {
  type BatchPredictionInput,
  type BatchPredictionResult,
  SHARD_BYTES_MEMO,
} from '../../src/workflows/definitions';
import { shardWorkflowIdFor } from '../../src/workflows/resource-names';
import { cleanEnv, runCli } from '../cli/run-cli';
import { launchChromium, screenshotPath } from './browser';
import { spawnWorkerProcess, stopProcess, useStackWithWorker } from './harness';

const taskQueue = 'e2e-codec';
const SIGNATURE = 'X-Goog-Signature=codec-must-not-show-0123456789';
const k1: CodecKey = { id: 'k1', key: randomBytes(32) };
const k2: CodecKey = { id: 'k2', key: randomBytes(32) };

let browser: Browser | undefined;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

const suite = useStackWithWorker(taskQueue, { webUi: true, codec: [k1] });

function keyFile(name: string, keys: CodecKey[]): string {
  const path = join(suite.stack.dir, name);
  writeFileSync(path, JSON.stringify({ keys: keys.map(({ id, key }) => ({ id, key: key.toString('base64') })) }));
  return path;
}

function input(source: string, logsDirectory: string): BatchPredictionInput {
  return {
    dataset: { ndjsonUrl: source },
    job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
    polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    logs: { collect: true, directory: logsDirectory },
  };
}

/** `temporal <args> --output json` against the stack's server, as an operator with namespace access sees it. */
function temporalJson(args: string[]): string {
  return execFileSync(
    temporalCliPath(),
    [
      ...args,
      '--address',
      suite.stack.env.address,
      '--namespace',
      suite.stack.env.namespace ?? 'default',
      '-o',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

/** The text and every base64 value in it decoded: what a reader of the stored JSON can get at without a key. */
function readableWithoutKey(json: string): string {
  const decoded: string[] = [json];
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      if (/^[A-Za-z0-9+/]{8,}={0,2}$/.test(node)) decoded.push(Buffer.from(node, 'base64').toString('latin1'));
      return;
    }
    if (node && typeof node === 'object') for (const child of Object.values(node)) visit(child);
  };
  visit(JSON.parse(json));
  return decoded.join('\n');
}

/** Where a payload is stored without encryption: the JSON path of each, e.g. `events.3.…searchAttributes…`. */
function plainPayloadPaths(json: string): string[] {
  const plain: string[] = [];
  const encrypted = Buffer.from('binary/encrypted').toString('base64');
  const visit = (node: unknown, path: string): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const metadata = record.metadata as Record<string, string> | undefined;
    if (metadata && typeof metadata === 'object' && 'encoding' in metadata && metadata.encoding !== encrypted) {
      plain.push(path);
    }
    for (const [key, child] of Object.entries(record)) visit(child, path ? `${path}.${key}` : key);
  };
  visit(JSON.parse(json), '');
  return plain;
}

/** What a history's payloads hold once decrypted: proves the plain-text check above could have seen them. */
async function decryptedPayloads(json: string, codec: EncryptionCodec): Promise<string> {
  const payloads: Payload[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const metadata = record.metadata as Record<string, string> | undefined;
    if (metadata && typeof record.data === 'string' && metadata[METADATA_KEY_ID]) {
      payloads.push({
        metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        data: Buffer.from(record.data, 'base64'),
      });
    }
    for (const child of Object.values(record)) visit(child);
  };
  visit(JSON.parse(json));
  const decoded = await codec.decode(payloads);
  return decoded.map((payload) => Buffer.from(payload.data ?? []).toString()).join('\n');
}

function cliEnv(keysPath: string) {
  return cleanEnv({
    TEMPORAL_ADDRESS: suite.stack.env.address,
    TEMPORAL_NAMESPACE: suite.stack.env.namespace ?? 'default',
    DATATURE_BATCH_CODEC_KEYS: keysPath,
  });
}

let firstRun: { workflowId: string; runId: string; source: string };

test('with the codec on, the stored history holds no URL or path; the CLI reads all of it; search attributes hold ids and phases', async () => {
  suite.stack.writeDataset('codec.ndjson', 12);
  const source = `${suite.stack.sourceUrl('codec.ndjson')}?${SIGNATURE}`;
  const handle = await startBatchPrediction(suite.stack.env.client, input(source, 'codec-run'), {
    taskQueue,
    workflowId: 'codec-first',
  });
  const result = (await handle.result()) as BatchPredictionResult;
  expect(result.logs?.filePath).toContain(suite.stack.dir);
  firstRun = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, source };
  // A failed run too: its failure message names the URL it could not read.
  const missing = await startBatchPrediction(
    suite.stack.env.client,
    input(suite.stack.sourceUrl('missing-codec.ndjson'), 'codec-missing'),
    { taskQueue, workflowId: 'codec-failed' },
  );
  const failure = await missing.result().catch((err: Error) => err);
  expect(String((failure as Error & { cause?: Error }).cause?.message)).toContain('missing-codec.ndjson');

  const secrets = [
    suite.stack.sources.url,
    suite.stack.files.url,
    suite.stack.dir,
    'codec.ndjson',
    'missing-codec',
    'X-Goog-Signature',
  ];
  for (const workflowId of ['codec-first', 'codec-failed']) {
    const history = temporalJson(['workflow', 'show', '-w', workflowId]);
    const plain = readableWithoutKey(history);
    for (const secret of secrets)
      expect({ workflowId, found: plain.includes(secret) ? secret : undefined }).toEqual({
        workflowId,
        found: undefined,
      });
    const described = readableWithoutKey(temporalJson(['workflow', 'describe', '-w', workflowId]));
    for (const secret of secrets) expect(described.includes(secret) ? secret : undefined).toBeUndefined();
  }
  // Every payload is encrypted (input, result, activity inputs and results, summaries, timer summaries,
  // failures) except the search attributes' and the patch markers' (a `patched()` id, written by the SDK's core).
  const history = temporalJson(['workflow', 'show', '-w', 'codec-first']);
  const unencrypted = plainPayloadPaths(history).filter(
    (path) => !/searchAttributes|markerRecordedEventAttributes\.details\.patch-data/i.test(path),
  );
  expect(unencrypted).toEqual([]);
  expect(plainPayloadPaths(history).length).toBeGreaterThan(0); // the upserts' BatchPhase, …: the walk sees them
  // The same history, decrypted: the input's URL, the items' URLs' host and the log file's path are there.
  const decrypted = await decryptedPayloads(
    temporalJson(['workflow', 'show', '-w', 'codec-first']),
    new EncryptionCodec([k1]),
  );
  expect(decrypted).toContain(source);
  expect(decrypted).toContain(suite.stack.dir);

  // Search attributes are not encrypted: only the phase and the Datature ids go there.
  const { searchAttributes } = await handle.describe();
  expect(searchAttributes.BatchPhase).toEqual(['completed']);
  expect(searchAttributes.BatchDatasetId).toEqual([expect.stringMatching(/^dataset_[\w-]+$/)]);
  expect(searchAttributes.BatchJobId).toEqual([expect.stringMatching(/^batchjob_[\w-]+$/)]);

  // The CLI, given the key file, reads the run as before; without it, it cannot.
  const keys = keyFile('cli-keys.json', [k1]);
  const status = await runCli(['status', 'codec-first', '--json'], cliEnv(keys));
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout).progress).toMatchObject({ phase: 'completed', itemCount: 12 });
  const cliResult = await runCli(['result', 'codec-first', '--json'], cliEnv(keys));
  expect(cliResult.code).toBe(0);
  expect(JSON.parse(cliResult.stdout)).toMatchObject({ itemCount: 12, logs: { filePath: result.logs!.filePath } });
  const failed = await runCli(['result', 'codec-failed', '--json'], cliEnv(keys));
  expect(failed.code).toBe(1);
  expect(JSON.parse(failed.stdout).error.message).toContain('missing-codec.ndjson');
}, 120_000);

test('a sharded run with the codec on: the shards take their byte ranges from an encrypted memo; no payload of parent or shard is plain', async () => {
  const dataset = suite.stack.writeDataset('codec-sharded.ndjson', 20);
  const handle = await startBatchPrediction(
    suite.stack.env.client,
    {
      dataset: { ndjsonPath: dataset },
      job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
      sharding: { maxItemsPerShard: 10, maxParallelShards: 2 },
    },
    { taskQueue, workflowId: 'codec-sharded' },
  );
  const result = (await handle.result()) as BatchPredictionResult;
  expect(result).toMatchObject({ outcome: 'completed', shards: { total: 2, done: 2 } });
  expect(result.job!.items.delivered).toBe(20);
  const shard = suite.stack.env.client.workflow.getHandle(shardWorkflowIdFor('codec-sharded', 1));
  // Read back through the codec by the test's client: the second shard starts where line 10 does.
  const tenLines = readFileSync(dataset, 'utf8').split('\n').slice(0, 10).join('\n').length + 1;
  expect((await shard.describe()).memo).toEqual({ [SHARD_BYTES_MEMO]: { byteStart: tenLines } });
  for (const workflowId of ['codec-sharded', shardWorkflowIdFor('codec-sharded', 1)]) {
    const stored = temporalJson(['workflow', 'show', '-w', workflowId]);
    const described = temporalJson(['workflow', 'describe', '-w', workflowId]);
    const plain = [...plainPayloadPaths(stored), ...plainPayloadPaths(described)].filter(
      (path) => !/searchAttributes|markerRecordedEventAttributes\.details\.patch-data/i.test(path),
    );
    expect({ workflowId, plain }).toEqual({ workflowId, plain: [] });
    expect(readableWithoutKey(stored).includes('codec-sharded.ndjson')).toBe(false);
  }
  // The walk above saw the memo: the shard's description holds it, under its key, encrypted.
  expect(temporalJson(['workflow', 'describe', '-w', shardWorkflowIdFor('codec-sharded', 1)])).toContain(
    SHARD_BYTES_MEMO,
  );
}, 180_000);

test('a schedule’s action (input, memo, summary) is stored encrypted and read back by the helpers', async () => {
  const source = `${suite.stack.sourceUrl('codec.ndjson')}?${SIGNATURE}`;
  await createBatchSchedule(suite.stack.env.client, {
    scheduleId: 'codec-schedule',
    cron: '0 2 * * *',
    paused: true,
    input: { ...input(source, 'codec-scheduled'), logs: { collect: true } },
    taskQueue,
  });
  try {
    const stored = readableWithoutKey(temporalJson(['schedule', 'describe', '-s', 'codec-schedule']));
    expect(stored.includes(suite.stack.sources.url)).toBe(false);
    expect(stored.includes('X-Goog-Signature')).toBe(false);
    const details = await describeBatchSchedule(suite.stack.env.client, 'codec-schedule');
    expect(details.input.dataset).toEqual({ ndjsonUrl: source });
    expect(details.shows.dataset).toBe(`${suite.stack.sourceUrl('codec.ndjson')}?[REDACTED]`);
  } finally {
    await deleteBatchSchedule(suite.stack.env.client, 'codec-schedule');
  }
}, 60_000);

test('a worker without the key fails its workflow tasks with "cannot decode payload: unknown key id"; a worker with it finishes the run', async () => {
  const queue = 'e2e-codec-keyless';
  const keyless = spawnWorkerProcess(suite.stack, queue, {
    DATATURE_BATCH_CODEC_KEYS: keyFile('other-keys.json', [k2]),
  });
  let keyed: ReturnType<typeof spawnWorkerProcess> | undefined;
  try {
    const handle = await startBatchPrediction(
      suite.stack.env.client,
      input(`${suite.stack.sourceUrl('codec.ndjson')}?${SIGNATURE}`, 'codec-keyless'),
      { taskQueue: queue, workflowId: 'codec-keyless' },
    );
    const failure = await until('a failed workflow task', async () => {
      const { events } = await handle.fetchHistory();
      return events?.find((event) => event.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes
        ?.failure;
    });
    // In plain words, readable without any key (it names key ids only): the server logs it too.
    expect(failure.message).toContain('cannot decode payload: unknown key id "k1" (this process has "k2"');
    expect(failure.encodedAttributes).toBeFalsy();
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await stopProcess(keyless);
    keyed = spawnWorkerProcess(suite.stack, queue, { DATATURE_BATCH_CODEC_KEYS: keyFile('right-keys.json', [k1]) });
    const result = (await handle.result()) as BatchPredictionResult;
    expect(result).toMatchObject({ outcome: 'completed', itemCount: 12 });
  } finally {
    await stopProcess(keyless);
    if (keyed) await stopProcess(keyed);
  }
}, 180_000);

test('rotation: a new first key encrypts new runs; runs written with the old key stay readable', async () => {
  const rotated = codecDataConverter({ keys: [k2, k1] });
  const client = new Client({
    connection: suite.stack.env.connection,
    namespace: suite.stack.env.namespace,
    dataConverter: rotated,
  });
  const queue = 'e2e-codec-rotated';
  const worker = await createWorker({
    connection: suite.stack.env.nativeConnection,
    namespace: suite.stack.env.namespace,
    taskQueue: queue,
    datature: {
      secretKey: suite.stack.emulator.secretKey,
      projectId: suite.stack.emulator.projectId,
      baseUrl: suite.stack.emulator.url,
    },
    logsDir: join(suite.stack.dir, 'logs'),
    dataConverter: rotated,
  });
  const running = worker.run();
  try {
    const handle = await startBatchPrediction(client, input(firstRun.source, 'codec-rotated'), {
      taskQueue: queue,
      workflowId: 'codec-rotated',
    });
    expect(await handle.result()).toMatchObject({ outcome: 'completed' });
    const keyIdOfInput = (json: string) => {
      const event = JSON.parse(json).events[0];
      const payload = event.workflowExecutionStartedEventAttributes.input.payloads[0];
      return Buffer.from(payload.metadata[METADATA_KEY_ID], 'base64').toString();
    };
    expect(keyIdOfInput(temporalJson(['workflow', 'show', '-w', 'codec-rotated']))).toBe('k2');
    expect(keyIdOfInput(temporalJson(['workflow', 'show', '-w', firstRun.workflowId]))).toBe('k1');
    // The old run, read with the rotated keys: by the SDK and by the CLI.
    expect(await client.workflow.getHandle(firstRun.workflowId).result()).toMatchObject({ itemCount: 12 });
    const cli = await runCli(['result', firstRun.workflowId, '--json'], cliEnv(keyFile('rotated-keys.json', [k2, k1])));
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ itemCount: 12 });
    expect(await getProgress(client.workflow.getHandle(firstRun.workflowId))).toMatchObject({ phase: 'completed' });
  } finally {
    worker.shutdown();
    await running;
  }
}, 120_000);

test('in a real browser, the Web UI shows the run’s input decoded through the codec server', async () => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const ui = `${suite.stack.webUiUrl}/namespaces/${suite.stack.env.namespace ?? 'default'}`;
  const before = suite.stack.codecDecodes();
  await page.goto(`${ui}/workflows/${firstRun.workflowId}/${firstRun.runId}/history`);
  // The input as given (the UI's input pane shows payloads as they are: here, decrypted).
  await page.getByText(suite.stack.sourceUrl('codec.ndjson'), { exact: false }).first().waitFor({ timeout: 30_000 });
  expect(suite.stack.codecDecodes()).toBeGreaterThan(before);
  expect(await page.content()).not.toContain('binary/encrypted');
  await page.screenshot({ path: screenshotPath('codec', '1-input-decoded.png'), fullPage: true });
  // The summary and details (user metadata) are payloads too: decoded the same way.
  await page.goto(`${ui}/workflows/${firstRun.workflowId}/${firstRun.runId}/user-metadata`);
  await page.frameLocator('#user-metadata-summary').locator('body').getByText('batch prediction').first().waitFor();
  await page.screenshot({ path: screenshotPath('codec', '2-user-metadata-decoded.png'), fullPage: true });
  // A failure's message is encrypted as well (it names the URL it could not read): decoded the same way.
  await page.goto(`${ui}/workflows/codec-failed`);
  await page.getByText('missing-codec.ndjson: HTTP 404').first().waitFor();
  await page.screenshot({ path: screenshotPath('codec', '3-failure-decoded.png'), fullPage: true });
  await page.close();
}, 90_000);

async function until<T>(what: string, probe: () => Promise<T | undefined | null>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

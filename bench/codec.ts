// What the payload codec (src/codec, docs/codec.md) costs. 1) Per payload: the SDK's JSON converter alone
// (baseline) vs converter + AES-256-GCM codec, encode and decode, for a run's input (~300 B) and a ~100 KiB
// payload (1,000 inline items, the largest input a run takes), and the bytes stored. 2) A 10,000-item run of
// the real workflow on the time-skipping server against the scripted API (2 h linear job), codec off vs on:
// wall time and the bytes of its history. 3) The 10,000-item pipeline end to end (Temporal dev server,
// emulator, a worker process spawned like production ones, 10,000 log entries collected), codec off vs on:
// wall time, the worker's CPU seconds, history bytes (1,000 items with BENCH_QUICK=1).
//   npx tsx bench/codec.ts      BENCH_QUICK=1 npx tsx bench/codec.ts
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { type DataConverter, DefaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { codecDataConverter, EncryptionCodec } from '../src/codec';
import { startBatchPrediction } from '../src/run-client';
import { workflowBundlePath } from '../src/worker';
import type { BatchPredictionResult } from '../src/workflows/definitions';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess } from '../test/e2e/harness';
import { scriptedApi, scriptedInput } from '../test/workflows/scripted-activities';
import { startTimeSkipping, type TimeSkipping } from '../test/workflows/time-skipping-env';
import { type Figures, QUICK, runBench, runIfMain } from './support/ab';

const converter = new DefaultPayloadConverter();
const keys = [{ id: 'k1', key: randomBytes(32) }];
const SMALL_ITERATIONS = QUICK ? 2_000 : 20_000;
const LARGE_ITERATIONS = QUICK ? 100 : 1_000;
const RUN_ITEMS = 10_000;
const PIPELINE_ITEMS = QUICK ? 1_000 : 10_000;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const HOUR = 3_600_000;

const smallValue = {
  dataset: { ndjsonUrl: 'https://bucket.example.com/cells/2026-11-30.ndjson?X-Goog-Signature=0123456789abcdef' },
  job: { deploymentId: 'deploy_00000000-0000-4000-8000-000000000001', webhookIds: ['webhook_0123456789'] },
  logs: { collect: true },
};
const largeValue = {
  dataset: {
    items: Array.from({ length: 1000 }, (_, i) => ({
      kind: 'Image',
      url: `https://files.example.com/plates/2026-11-30/well-${String(i).padStart(4, '0')}.png?sig=${randomBytes(8).toString('hex')}`,
    })),
  },
  job: smallValue.job,
};

/** Mean µs per payload of `iterations` encodes (value -> stored payload) and decodes (back to the value). */
async function perPayload(value: unknown, iterations: number, codec?: EncryptionCodec) {
  let stored: Payload = converter.toPayload(value);
  const encodeStart = performance.now();
  for (let i = 0; i < iterations; i++) {
    const payload = converter.toPayload(value);
    stored = codec ? (await codec.encode([payload]))[0] : payload;
  }
  const encodeUs = ((performance.now() - encodeStart) * 1000) / iterations;
  const decodeStart = performance.now();
  for (let i = 0; i < iterations; i++) {
    converter.fromPayload(codec ? (await codec.decode([stored]))[0] : stored);
  }
  const decodeUs = ((performance.now() - decodeStart) * 1000) / iterations;
  return { encodeUs, decodeUs, bytes: temporal.api.common.v1.Payload.encode(stored).finish().length };
}

async function payloadFigures(codec?: EncryptionCodec): Promise<Figures> {
  const small = await perPayload(smallValue, SMALL_ITERATIONS, codec);
  const large = await perPayload(largeValue, LARGE_ITERATIONS, codec);
  return {
    smallEncodeUs: small.encodeUs,
    smallDecodeUs: small.decodeUs,
    smallBytes: small.bytes,
    largeEncodeUs: large.encodeUs,
    largeDecodeUs: large.decodeUs,
    largeBytes: large.bytes,
  };
}

/** One 10,000-item run; its client and worker with `dataConverter` (the codec) or without. */
async function tenThousandItemRun(suite: TimeSkipping, dataConverter?: DataConverter): Promise<Figures> {
  const client = new Client({ connection: suite.env.connection, namespace: suite.env.namespace, dataConverter });
  const api = scriptedApi({ itemCount: RUN_ITEMS, jobDurationMs: 2 * HOUR, client });
  const taskQueue = `bench-codec-${randomUUID()}`;
  const worker = await Worker.create({
    connection: suite.env.nativeConnection,
    namespace: suite.env.namespace,
    taskQueue,
    workflowBundle: {
      codePath: await workflowBundlePath({ failureConverterPath: dataConverter?.failureConverterPath }),
    },
    activities: api.activities,
    dataConverter,
  });
  const workflowId = `bench-codec-${randomUUID()}`;
  const started = performance.now();
  return worker.runUntil(async () => {
    const handle = await client.workflow.start('batchPrediction', {
      taskQueue,
      workflowId,
      args: [scriptedInput({ dataset: { ndjsonUrl: smallValue.dataset.ndjsonUrl } })],
    });
    // What the test client does while it awaits a result: let the server skip time while nothing runs.
    await suite.env.connection.testService!.unlockTimeSkipping({});
    let result: BatchPredictionResult;
    try {
      result = (await handle.result()) as BatchPredictionResult;
    } finally {
      await suite.env.connection.testService!.lockTimeSkipping({});
    }
    const wallS = (performance.now() - started) / 1000;
    const history = await handle.fetchHistory();
    return {
      wallS,
      historyKiB: temporal.api.history.v1.History.encode(history).finish().length / 1024,
      events: history.events?.length ?? 0,
      polls: result.polls,
    };
  });
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}

async function startWorker(stack: E2eStack, taskQueue: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawnWorkerProcess(stack, taskQueue, env);
  for (;;) {
    const described = await stack.env.client.workflowService.describeTaskQueue({
      namespace: stack.env.namespace ?? 'default',
      taskQueue: { name: taskQueue },
    });
    if ((described.pollers?.length ?? 0) > 0) return child;
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** The real pipeline: a worker process, `PIPELINE_ITEMS` items read, uploaded, predicted and their logs collected. */
async function pipelineRun(
  stack: E2eStack,
  webhookId: string,
  source: string,
  codec?: { keysFile: string; dataConverter: DataConverter },
): Promise<Figures> {
  const taskQueue = `bench-codec-pipeline-${randomUUID()}`;
  const worker = await startWorker(stack, taskQueue, codec ? { DATATURE_BATCH_CODEC_KEYS: codec.keysFile } : {});
  const client = new Client({
    connection: stack.env.connection,
    namespace: stack.env.namespace,
    dataConverter: codec?.dataConverter,
  });
  try {
    const before = cpuSeconds(worker.pid!);
    const started = performance.now();
    const handle = await startBatchPrediction(
      client,
      {
        dataset: { ndjsonPath: source },
        job: { deploymentId: stack.emulator.deploymentId, webhookIds: [webhookId] },
        polling: { minIntervalMs: 1_000 },
        logs: { collect: true },
      },
      { taskQueue },
    );
    const result = (await handle.result()) as BatchPredictionResult;
    const wallS = (performance.now() - started) / 1000;
    const cpuS = cpuSeconds(worker.pid!) - before;
    if (result.logs?.entries !== PIPELINE_ITEMS) {
      throw new Error(`expected ${PIPELINE_ITEMS} log entries, got ${result.logs?.entries}`);
    }
    const history = await handle.fetchHistory();
    return {
      wallS,
      cpuS,
      historyKiB: temporal.api.history.v1.History.encode(history).finish().length / 1024,
      events: history.events?.length ?? 0,
    };
  } finally {
    await stopProcess(worker);
  }
}

async function pipelineBench(): Promise<void> {
  const stack = await startE2eStack();
  // A webhook that only answers 204: the fsyncing test receiver would make 10,000 deliveries slow.
  const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise<void>((done) => sink.listen(0, '127.0.0.1', done));
  try {
    const webhookId = (
      await stack.datatureApi.webhooks.create({
        name: 'bench-sink',
        endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
        secret: 'YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC1iZW5jaC0xMg==',
      })
    ).id;
    const source = stack.writeDataset('bench-codec.ndjson', PIPELINE_ITEMS);
    const keysFile = join(stack.dir, 'codec-keys.json');
    writeFileSync(keysFile, JSON.stringify({ keys: keys.map(({ id, key }) => ({ id, key: key.toString('base64') })) }));
    const dataConverter = codecDataConverter({ keys });
    // The worker processes' bundle with the codec's failure converter, built before anything is timed.
    await workflowBundlePath({ failureConverterPath: dataConverter.failureConverterPath });
    await runBench({
      title: `codec: the ${PIPELINE_ITEMS.toLocaleString('en')}-item pipeline`,
      setup:
        'Temporal dev server, emulator in the bench process, a worker process per run (spawned like production ' +
        'ones), NDJSON file source, every log entry collected, a 204 webhook sink',
      rounds: QUICK ? 1 : 2,
      baseline: { name: 'codec off', run: () => pipelineRun(stack, webhookId, source) },
      variants: [{ name: 'codec on', run: () => pipelineRun(stack, webhookId, source, { keysFile, dataConverter }) }],
      columns: [
        { key: 'wallS', label: 'wall s', ratio: true },
        { key: 'cpuS', label: 'worker CPU s', digits: 2, ratio: true },
        { key: 'historyKiB', label: 'history KiB', ratio: true },
        { key: 'events', label: 'events', digits: 0 },
      ],
    });
  } finally {
    sink.close();
    await stack.close();
  }
}

export async function main(): Promise<void> {
  const codec = new EncryptionCodec(keys);
  await runBench({
    title: 'codec: cost per payload',
    setup:
      `the SDK's JSON payload converter, then the codec; a run's input (${JSON.stringify(smallValue).length} B of JSON, ` +
      `${SMALL_ITERATIONS} times) and 1,000 inline items (${(JSON.stringify(largeValue).length / 1024).toFixed(0)} KiB, ` +
      `${LARGE_ITERATIONS} times); one core`,
    rounds: QUICK ? 1 : 3,
    baseline: { name: 'JSON only', run: () => payloadFigures() },
    variants: [{ name: 'JSON + AES-256-GCM codec', run: () => payloadFigures(codec) }],
    columns: [
      { key: 'smallEncodeUs', label: 'input: encode µs', ratio: true },
      { key: 'smallDecodeUs', label: 'input: decode µs', ratio: true },
      { key: 'smallBytes', label: 'input: stored B', digits: 0 },
      { key: 'largeEncodeUs', label: '100 KiB: encode µs', digits: 0, ratio: true },
      { key: 'largeDecodeUs', label: '100 KiB: decode µs', digits: 0, ratio: true },
      { key: 'largeBytes', label: '100 KiB: stored B', digits: 0, ratio: true },
    ],
  });

  // The SDK's worker state changes at INFO would bury the tables.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const suite = await startTimeSkipping();
  try {
    await runBench({
      title: `codec: one ${RUN_ITEMS.toLocaleString('en')}-item run`,
      setup:
        'the real workflow on the time-skipping server, scripted API (2 h linear job, source an ndjsonUrl), ' +
        'client and worker in this process',
      rounds: QUICK ? 1 : 3,
      baseline: { name: 'codec off', run: () => tenThousandItemRun(suite) },
      variants: [{ name: 'codec on', run: () => tenThousandItemRun(suite, codecDataConverter({ keys })) }],
      columns: [
        { key: 'wallS', label: 'wall s', digits: 2, ratio: true },
        { key: 'historyKiB', label: 'history KiB', ratio: true },
        { key: 'events', label: 'events', digits: 0 },
        { key: 'polls', label: 'looks at the job', digits: 0 },
      ],
    });
  } finally {
    await suite.env.teardown();
  }

  await pipelineBench();
}

runIfMain(module, main);

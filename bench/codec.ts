// What the payload codec (src/codec, docs/codec.md) costs. 1) Per payload: the SDK's JSON converter alone
// (baseline) vs converter + AES-256-GCM codec, encode and decode, for a run's input (~300 B) and a ~100 KiB
// payload (1,000 inline items, the largest input a run takes), and the bytes stored. 2) A 10,000-item run of
// the real workflow on the time-skipping server against the scripted API (2 h linear job), codec off vs on:
// wall time and the bytes of its history.
//   npx tsx bench/codec.ts      BENCH_QUICK=1 npx tsx bench/codec.ts
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { type DataConverter, DefaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { codecDataConverter, EncryptionCodec } from '../src/codec';
import { workflowBundlePath } from '../src/worker';
import type { BatchPredictionResult } from '../src/workflows/definitions';
import { scriptedApi, scriptedInput } from '../test/workflows/scripted-activities';
import { startTimeSkipping, type TimeSkipping } from '../test/workflows/time-skipping-env';
import { type Figures, QUICK, runBench, runIfMain } from './support/ab';

const converter = new DefaultPayloadConverter();
const keys = [{ id: 'k1', key: randomBytes(32) }];
const SMALL_ITERATIONS = QUICK ? 2_000 : 20_000;
const LARGE_ITERATIONS = QUICK ? 100 : 1_000;
const RUN_ITEMS = 10_000;
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
}

runIfMain(module, main);

// The whole pipeline against emulators whose running jobs report an overview the Python SDK does not know
// (its enum is Waiting / Reached / Failed): `Running`, and a made-up value the workflow does not list either.
// The run must keep polling, judge completion from the counters and complete.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { temporalCliPath } from '../../src/dev/binaries';
import { type StaticFileServer, startStaticFileServer } from '../../src/dev/static-file-server';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { type Receiver, startReceiver } from '../../src/receiver';
import { getProgress, startBatchPrediction } from '../../src/run-client';
import { createWorker, workflowBundlePath } from '../../src/worker';
import { BATCH_SEARCH_ATTRIBUTES } from '../../src/workflows/definitions';

const imagesDir = resolve(__dirname, '..', '..', 'samples', 'images');
const ITEMS = 50;

/** One emulator (with its overview choice), its receiver and webhook, and a worker on its own task queue. */
interface Lane {
  overview: string;
  taskQueue: string;
  emulator: RunningEmulator;
  receiver: Receiver;
  datatureApi: DatatureClient;
  webhookId: string;
  worker: Worker;
  running: Promise<void>;
}

const OVERVIEWS = ['Running', 'Gathering'];
let env: TestWorkflowEnvironment;
let files: StaticFileServer;
let dir: string;
let datasetPath: string;
const lanes = new Map<string, Lane>();

async function startLane(overview: string): Promise<Lane> {
  const emulator = await startEmulator({ runningJobOverview: overview, adminRoutes: true, tickIntervalMs: 20 });
  const secret = generateWebhookSecret();
  const receiver = await startReceiver({ port: 0, secrets: [secret], outFile: join(dir, `${overview}.ndjson`) });
  const datature = { secretKey: emulator.secretKey, projectId: emulator.projectId, baseUrl: emulator.url };
  const datatureApi = new DatatureClient(datature);
  const webhookId = (await datatureApi.webhooks.create({ name: `e2e-${overview}`, endpoint: receiver.url, secret })).id;
  // Slow downloads keep the items flowing for seconds, so the workflow polls the job while it runs.
  await fetch(`${emulator.url}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ gather: { latencyMs: 800 } }),
  });
  const taskQueue = `e2e-overview-${overview}`;
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    datature,
    logsDir: join(dir, 'logs', overview),
  });
  return { overview, taskQueue, emulator, receiver, datatureApi, webhookId, worker, running: worker.run() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'batch-e2e-overview-'));
  [env, files] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        ip: '127.0.0.1',
        searchAttributes: BATCH_SEARCH_ATTRIBUTES,
      },
    }),
    startStaticFileServer({ root: imagesDir, port: 0 }),
    workflowBundlePath(),
  ]);
  const images = readdirSync(imagesDir).filter((name) => name.endsWith('.png'));
  datasetPath = join(dir, 'items.ndjson');
  const lines = Array.from({ length: ITEMS }, (_, i) =>
    JSON.stringify({ kind: 'Image', url: `${files.url}/${images[i % images.length]}?n=${i}` }),
  );
  writeFileSync(datasetPath, `${lines.join('\n')}\n`);
  for (const overview of OVERVIEWS) lanes.set(overview, await startLane(overview));
}, 120_000);

afterAll(async () => {
  for (const lane of lanes.values()) {
    lane.worker.shutdown();
    await lane.running;
    await Promise.allSettled([lane.receiver.close(), lane.emulator.close()]);
  }
  await files?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.each(OVERVIEWS)(
  'a job reporting overview %j while its items flow: the run polls through it and completes',
  async (overview) => {
    const lane = lanes.get(overview)!;
    expect(lane.emulator.runningJobOverview).toBe(overview);
    const handle = await startBatchPrediction(
      env.client,
      {
        dataset: { ndjsonPath: datasetPath },
        job: { deploymentId: lane.emulator.deploymentId, webhookIds: [lane.webhookId] },
        polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
        logs: { collect: true },
        receiverUrl: lane.receiver.url,
      },
      { taskQueue: lane.taskQueue, workflowId: `e2e-overview-${overview}` },
    );

    // What the API said and what the workflow recorded from its own polls, while the run lasts.
    const apiSaw = new Set<string>();
    const workflowSaw = new Set<string>();
    let finished = false;
    const result = handle.result().finally(() => {
      finished = true;
    });
    while (!finished) {
      const progress = await getProgress(handle).catch(() => undefined);
      if (progress?.job) workflowSaw.add(progress.job.overview);
      if (progress?.jobId) {
        const job = await lane.datatureApi.jobs.get(progress.jobId).catch(() => undefined);
        if (job) apiSaw.add(job.status.overview);
      }
      await new Promise((done) => setTimeout(done, 100));
    }
    const outcome = await result;

    expect(apiSaw).toContain(overview);
    expect(workflowSaw).toContain(overview);
    expect(outcome.outcome).toBe('completed');
    expect(outcome.itemCount).toBe(ITEMS);
    expect(outcome.job?.overview).toBe('Reached');
    expect(outcome.job?.message).toBe('Finished');
    expect(outcome.job?.items.delivered).toBe(ITEMS);
    expect(outcome.polls).toBeGreaterThan(1);
    expect(outcome.receiver).toEqual({ predictions: ITEMS, delivered: ITEMS, matchesDelivered: true });
    expect(outcome.logs?.entries).toBe(ITEMS);
    expect(outcome.logs?.byStatus).toEqual({ Delivered: ITEMS });
  },
);

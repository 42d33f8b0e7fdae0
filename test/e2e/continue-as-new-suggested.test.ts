// The server's own continue-as-new suggestion: the dev server is told to suggest it after 60 history events
// (dynamic config `limit.historyCount.suggestContinueAsNew`), so a job of some seconds, looked at every
// second, makes the run continue as new on the server's word alone (no `polling.maxHistoryEvents`).
// Real dev server, emulator (slow item downloads keep the job running) and worker.
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
import { startBatchPrediction } from '../../src/run-client';
import { createWorker } from '../../src/worker';
import { BATCH_SEARCH_ATTRIBUTES } from '../../src/workflows/definitions';

const taskQueue = 'e2e-can-suggested';
const dir = mkdtempSync(join(tmpdir(), 'can-suggested-'));
let env: TestWorkflowEnvironment;
let emulator: RunningEmulator;
let files: StaticFileServer;
let receiver: Receiver;
let worker: Worker;
let running: Promise<void>;
let webhookId: string;

beforeAll(async () => {
  [env, emulator, files] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        ip: '127.0.0.1',
        searchAttributes: BATCH_SEARCH_ATTRIBUTES,
        extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'],
      },
    }),
    startEmulator({ port: 0, host: '127.0.0.1', adminRoutes: true, tickIntervalMs: 20 }),
    startStaticFileServer({ root: resolve(__dirname, '..', '..', 'samples', 'images'), port: 0 }),
  ]);
  const secret = generateWebhookSecret();
  receiver = await startReceiver({ port: 0, secrets: [secret], outFile: join(dir, 'predictions.ndjson') });
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    datature: { secretKey: emulator.secretKey, projectId: emulator.projectId, baseUrl: emulator.url },
    logsDir: join(dir, 'logs'),
  });
  running = worker.run();
  const datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  webhookId = (await datatureApi.webhooks.create({ name: 'can', endpoint: receiver.url, secret })).id;
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.allSettled([receiver?.close(), files?.close(), emulator?.close()]);
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

test('the run continues as new when the server suggests it, and completes with one dataset and one job', async () => {
  const images = readdirSync(resolve(__dirname, '..', '..', 'samples', 'images')).filter((name) =>
    name.endsWith('.png'),
  );
  const path = join(dir, 'items.ndjson');
  writeFileSync(
    path,
    images
      .slice(0, 12)
      .map((name, i) => `{"kind":"Image","url":"${files.url}/${name}?n=${i}"}\n`)
      .join(''),
  );
  // The downloads are held: the job runs until released, looked at every second.
  const setFaults = (faults: unknown) =>
    fetch(`${emulator.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
  await setFaults({ gather: { hold: true } });
  const handle = await startBatchPrediction(
    env.client,
    {
      dataset: { ndjsonPath: path },
      job: {
        deploymentId: emulator.deploymentId,
        webhookIds: [webhookId],
      },
      polling: { minIntervalMs: 1000, maxIntervalMs: 1000 },
      logs: { collect: true },
    },
    { taskQueue },
  );
  // Wait for the server's suggestion to be taken: the execution's current run is no longer the first.
  const deadline = Date.now() + 90_000;
  while ((await handle.describe()).runId === handle.firstExecutionRunId) {
    if (Date.now() > deadline) throw new Error('the run never continued as new');
    await new Promise((done) => setTimeout(done, 250));
  }
  await setFaults({});
  const result = await handle.result();
  expect(result.outcome).toBe('completed');
  expect(result.runs).toBeGreaterThan(1);
  // No run grew much past the suggestion (60 events) before continuing.
  for (let runId: string | undefined = handle.firstExecutionRunId; runId; ) {
    const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    expect(history.events!.length).toBeLessThan(120);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  expect(result.job?.items.delivered).toBe(12);
  expect(result.logs?.entries).toBe(12);
  const first = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
  expect(first.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
}, 120_000);

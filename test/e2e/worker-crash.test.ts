// `kill -9` of a worker process in each long phase; a fresh worker process finishes the run with exactly
// one dataset and one job on the emulator and a log file without duplicates.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type BatchPredictionHandle, startBatchPrediction } from '../../src/run-client';
import type { BatchPhase } from '../../src/workflows/definitions';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess, untilPhase } from './harness';

const taskQueue = 'e2e-crash';
let stack: E2eStack;
let dataset50: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startE2eStack();
  dataset50 = stack.writeDataset('fifty.ndjson', 50);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => stopProcess(worker, 'SIGKILL')));
  await stack?.close();
});

afterEach(async () => {
  await stack.setFaults({});
});

function startWorker(): ChildProcess {
  const worker = spawnWorkerProcess(stack, taskQueue);
  workers.push(worker);
  return worker;
}

/** The attempt number of each activity's last start, by activity type (a retry after the crash shows as 2+). */
async function lastAttempts(handle: BatchPredictionHandle): Promise<Record<string, number>> {
  const { events } = await handle.fetchHistory();
  const typeByScheduledId = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const event of events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeByScheduledId.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeByScheduledId.get(String(started.scheduledEventId)) ?? '?';
      attempts[type] = Math.max(attempts[type] ?? 0, started.attempt ?? 1);
    }
  }
  return attempts;
}

async function crashDuring(phase: BatchPhase, faults: unknown, retriedActivity?: string) {
  const before = await stack.emulatorState();
  await stack.setFaults(faults);
  const first = startWorker();
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: dataset50 },
      job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 3000 },
      logs: { collect: true },
    },
    { taskQueue },
  );
  await untilPhase(handle, phase);
  await new Promise((done) => setTimeout(done, 500));
  await stopProcess(first, 'SIGKILL');
  await stack.setFaults({});
  const second = startWorker();
  // Only this test's workers may poll, so the retry is known to run on the second one.
  const result = await handle.result().finally(() => stopProcess(second));
  expect(result.outcome).toBe('completed');
  expect(result.job?.items.delivered).toBe(50);
  const after = await stack.emulatorState();
  expect(after.datasets - before.datasets).toBe(1);
  expect(after.jobs - before.jobs).toBe(1);
  const ids = readFileSync(result.logs!.filePath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { id: string }).id);
  expect(ids).toHaveLength(50);
  expect(new Set(ids).size).toBe(50);
  expect(result.logs?.entries).toBe(50);
  if (retriedActivity) expect((await lastAttempts(handle))[retriedActivity]).toBeGreaterThan(1);
}

test('kill -9 during the upload', async () => {
  await crashDuring('uploading', { routes: [{ path: '/_uploads/**', latencyMs: 5000 }] }, 'uploadDataset');
}, 180_000);

test('kill -9 during the wait for the job', async () => {
  await crashDuring('waiting-for-job', { gather: { latencyMs: 300 } });
}, 180_000);

test('kill -9 during log collection', async () => {
  await crashDuring(
    'collecting-logs',
    {
      routes: [{ method: 'GET', path: '/projects/*/batch/jobs/*/logs', latencyMs: 5000 }],
    },
    'collectLogs',
  );
}, 180_000);

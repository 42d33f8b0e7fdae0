// A deploy stops a worker with SIGTERM: its in-flight activity gets the shutdown grace to finish (and is
// not retried elsewhere), the process exits cleanly, and the next worker finishes the run. Real dev server,
// emulator (a `hold` fault keeps the run's look at its job in flight) and worker processes.

import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { startBatchPrediction } from '../../src/run-client';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess, untilPhase } from './harness';

let stack: E2eStack;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startE2eStack();
}, 120_000);

afterAll(async () => {
  for (const worker of workers) await stopProcess(worker, 'SIGKILL');
  await stack?.setFaults({});
  await stack?.close();
});

async function heldRequests(): Promise<number> {
  const faults = (await stack.faults()) as { heldRequests?: number };
  return faults.heldRequests ?? 0;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('SIGTERM lets the in-flight look finish within the grace; the process exits 0; a new worker finishes', async () => {
  const taskQueue = `shutdown-${randomUUID()}`;
  const first = spawnWorkerProcess(stack, taskQueue, { DATATURE_BATCH_SHUTDOWN_GRACE_MS: '20000' });
  workers.push(first);
  const exited = new Promise<number | null>((resolve) => first.once('exit', (code) => resolve(code)));
  await stack.setFaults({ routes: [{ method: 'GET', path: '/projects/*/batch/jobs/*', hold: true, count: 1 }] });
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: stack.writeDataset('shutdown.ndjson', 5) },
      job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
    },
    { taskQueue },
  );
  await untilPhase(handle, 'waiting-for-job');
  await until(async () => (await heldRequests()) > 0, 'the look to be held');

  first.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  // The deploy is under way; the API answers the look now, well within the grace.
  await stack.setFaults({});
  expect(await exited).toBe(0);

  workers.push(spawnWorkerProcess(stack, taskQueue));
  const result = await handle.result();
  expect(result.outcome).toBe('completed');
  const { events } = await handle.fetchHistory();
  const looks = (events ?? []).filter(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'getJob',
  );
  const firstLook = looks[0].eventId;
  const started = (events ?? []).find(
    (event) => event.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === firstLook?.toString(),
  );
  const completed = (events ?? []).find(
    (event) => event.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === firstLook?.toString(),
  );
  // The held look completed on its first attempt, on the worker that was stopping: nothing was cut short.
  expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(1);
  expect(completed).toBeDefined();
}, 120_000);

// Failed items get a second chance (issue 12, part 5) on the real stack: two 1,000-item runs with a fast
// model. Their cost figures are printed by bench/failed-items.ts from the same runs (failed-items-runs.ts).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  type BatchPredictionHandle,
  cancelBatchPrediction,
  getProgress,
  startBatchPrediction,
} from '../../src/run-client';
import type { BatchPredictionInput, BatchProgress } from '../../src/workflows/definitions';
import { ITEMS, PERMANENT_FAILURES, receivedItems, runScenario, writeScenarioDataset } from './failed-items-runs';
import { spawnWorkerProcess, stopProcess, useStackWithWorker } from './harness';

const taskQueue = 'e2e-failed-items';
const suite = useStackWithWorker(taskQueue);

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

test('5 % transient gather and 2 % transient delivery failures: all 1,000 delivered after 2 rounds, each item once at the receiver', async () => {
  const { stack } = suite;
  const { path } = writeScenarioDataset(stack, 'transient');
  const run = await runScenario(stack, taskQueue, 'transient', {
    workflowId: 'e2e-failed-items-transient',
    dataset: path,
    retryFailedItems: { delayMs: 0 },
  });
  const { result } = run;
  expect(result.rounds).toHaveLength(2);
  const [first, second] = result.rounds!;
  // About 50 gather and 20 delivery failures in round 1 (a seeded hash picks them), all sent again.
  expect(first.failed.gather).toBeGreaterThan(25);
  expect(first.failed.deliver).toBeGreaterThan(5);
  expect(first.failed.process + first.failed.predict).toBe(0);
  expect(first.retried).toBe(first.failed.gather + first.failed.deliver);
  expect(first.delivered + first.retried).toBe(ITEMS);
  expect(second).toMatchObject({ round: 2, itemsIn: first.retried, delivered: first.retried, retried: 0 });
  expect(second.jobId).not.toBe(first.jobId);
  expect(result.items).toEqual({ delivered: ITEMS, failed: 0 });
  // The run's ids and job are round 1's; the receiver check covers both rounds.
  expect(result.jobId).toBe(first.jobId);
  expect(result.receiver).toEqual({ predictions: ITEMS, delivered: ITEMS, matchesDelivered: true });

  // Each item predicted and delivered exactly once, as the receiver saw it.
  const received = receivedItems(stack, [first.jobId, second.jobId]);
  expect(received).toHaveLength(ITEMS);
  expect(new Set(received).size).toBe(ITEMS);
  const sent = new Set(lines(path).map((line) => (JSON.parse(line) as { url: string }).url));
  expect(received.every((url) => sent.has(url))).toBe(true);

  // One dataset and one job per round, named for the run and the round.
  const named = async (list: AsyncIterable<{ name: string }>) => {
    const names: string[] = [];
    for await (const { name } of list) if (name.includes('failed-items-transient')) names.push(name);
    // A hex hash sorts before `r2`: round 1's name comes first.
    return names.sort();
  };
  const rounds = [expect.not.stringMatching(/-r2-/), expect.stringMatching(/-r2-[0-9a-f]{12}$/)];
  expect(await named(stack.datatureApi.jobs.list())).toEqual(rounds);
  expect(await named(stack.datatureApi.datasets.list())).toEqual(rounds);
}, 120_000);

test('3 % permanent failures (404): after their rounds exactly those 30 are in <run>.failed.ndjson, ready to run again', async () => {
  const { stack } = suite;
  const { path, missing } = writeScenarioDataset(stack, 'permanent');
  const run = await runScenario(stack, taskQueue, 'permanent', {
    workflowId: 'e2e-failed-items-permanent',
    dataset: path,
    retryFailedItems: { delayMs: 0 },
  });
  const { result } = run;
  expect(result.rounds!.map((round) => [round.itemsIn, round.delivered, round.failed.gather, round.retried])).toEqual([
    [ITEMS, ITEMS - PERMANENT_FAILURES, PERMANENT_FAILURES, PERMANENT_FAILURES],
    [PERMANENT_FAILURES, 0, PERMANENT_FAILURES, 0],
  ]);
  expect(result.items).toMatchObject({ delivered: ITEMS - PERMANENT_FAILURES, failed: PERMANENT_FAILURES });
  const failedFile = result.items!.failedFile!;
  expect(failedFile).toMatch(/e2e-failed-items-permanent-[0-9a-f]{12}\.failed\.ndjson$/);
  // Same item lines as a dataset: `datature-batch run <that file>` re-runs them.
  expect(
    lines(failedFile)
      .map((line) => JSON.parse(line))
      .sort((a, b) => a.url.localeCompare(b.url)),
  ).toEqual(missing.map((url) => ({ kind: 'Image', url })).sort((a, b) => a.url.localeCompare(b.url)));
  const reasons = lines(result.items!.reasonsFile!).map((line) => JSON.parse(line));
  expect(reasons).toHaveLength(PERMANENT_FAILURES);
  expect(reasons[0]).toMatchObject({
    status: 'FailedGather',
    reason: expect.stringMatching(/answered HTTP 404/),
    outcome: 'failed after 2 rounds',
    jobId: result.rounds![1].jobId,
  });
}, 120_000);

/** Items that take 2 s to gather, a fifth of them failing their first gather: round 2 runs long enough to be looked at. */
const SLOW_FLAKY = { gather: { latencyMs: 2000 }, flakyItems: { rate: 0.2, stages: ['gather'], seed: 3 } };

async function startSlowFlaky(workflowId: string, overrides: Partial<BatchPredictionInput> = {}) {
  const { stack } = suite;
  await stack.setFaults(SLOW_FLAKY);
  return startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: stack.writeDataset(`${workflowId}.ndjson`, 48) },
      job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
      logs: { collect: true },
      retryFailedItems: { delayMs: 0 },
      ...overrides,
    },
    { taskQueue, workflowId },
  );
}

/** The state a continued run started with (its second argument). */
async function carriedState(workflowId: string): Promise<{ retry?: { round: number; rounds: unknown[] } }> {
  const history = await suite.stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![1];
  return JSON.parse(Buffer.from(payload.data!).toString());
}

test('continue-as-new in a retry round keeps the rounds', async () => {
  const handle = await startSlowFlaky('e2e-failed-items-continued', {
    polling: { minIntervalMs: 1000, maxIntervalMs: 2000, maxHistoryEvents: 20 },
  });
  const result = await handle.result();
  await suite.stack.setFaults({});
  expect(result.runs).toBeGreaterThan(1);
  expect(result.rounds!.map((round) => round.round)).toEqual([1, 2]);
  expect(result.items).toEqual({ delivered: 48, failed: 0 });
  // The last run was continued during round 2, with round 1 carried.
  const carried = await carriedState(handle.workflowId);
  expect(carried.retry).toMatchObject({ round: 2, rounds: [expect.objectContaining({ round: 1 })] });
  expect(
    new Set(
      receivedItems(
        suite.stack,
        result.rounds!.map((round) => round.jobId),
      ),
    ).size,
  ).toBe(48);
}, 120_000);

test('cancel stops the round in flight with the usual cleanup; each round keeps one dataset and one job', async () => {
  const handle = await startSlowFlaky('e2e-failed-items-cancelled');
  const progress = await waitForProgress(handle, (p) => p.round === 2 && p.phase === 'waiting-for-job');
  const roundTwoJob = progress.jobId!;
  expect(progress.rounds).toEqual([expect.objectContaining({ round: 1, retried: expect.any(Number) })]);
  await cancelBatchPrediction(handle, 'enough');
  await expect(handle.result()).rejects.toThrow();
  await suite.stack.setFaults({});
  const after = await getProgress(handle);
  expect(after.cleanup).toMatchObject({ reason: 'enough', jobId: roundTwoJob });
  // Cancelled (its items take seconds each), not ended by itself.
  const stopped = (await suite.stack.datatureApi.jobs.get(roundTwoJob)).status;
  expect(stopped).toMatchObject({ overview: 'Reached', cancelledAt: expect.any(Number) });
  let jobs = 0;
  for await (const job of suite.stack.datatureApi.jobs.list()) if (job.name.includes('failed-items-cancelled')) jobs++;
  let datasets = 0;
  for await (const dataset of suite.stack.datatureApi.datasets.list()) {
    if (dataset.name.includes('failed-items-cancelled')) datasets++;
  }
  expect({ jobs, datasets }).toEqual({ jobs: 2, datasets: 2 });
}, 120_000);

async function waitForProgress(
  handle: BatchPredictionHandle,
  wanted: (progress: BatchProgress) => boolean,
  timeoutMs = 60_000,
): Promise<BatchProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await getProgress(handle).catch(() => undefined);
    if (progress && wanted(progress)) return progress;
    if (Date.now() > deadline) throw new Error(`progress never matched: ${JSON.stringify(progress)}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

test('kill -9 of the worker while round 2 uploads: a fresh worker finishes with one dataset and one job per round', async () => {
  const { stack } = suite;
  const crashQueue = 'e2e-failed-items-crash';
  // Uploads take 4 s: round 2's is still under way when the worker dies.
  await stack.setFaults({ ...SLOW_FLAKY, gather: undefined, routes: [{ path: '/_uploads/**', latencyMs: 4000 }] });
  const first = spawnWorkerProcess(stack, crashQueue);
  let second: ChildProcess | undefined;
  try {
    const handle = await startBatchPrediction(
      stack.env.client,
      {
        dataset: { ndjsonPath: stack.writeDataset('crash.ndjson', 48) },
        job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
        polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
        logs: { collect: true },
        retryFailedItems: { delayMs: 0 },
      },
      { taskQueue: crashQueue, workflowId: 'e2e-failed-items-crash' },
    );
    await waitForProgress(handle, (p) => p.round === 2 && p.phase === 'uploading', 90_000);
    await new Promise((done) => setTimeout(done, 500));
    await stopProcess(first, 'SIGKILL');
    second = spawnWorkerProcess(stack, crashQueue);
    const result = await handle.result();
    expect(result.items).toEqual({ delivered: 48, failed: 0 });
    expect(result.rounds!.map((round) => round.round)).toEqual([1, 2]);
    let jobs = 0;
    for await (const job of stack.datatureApi.jobs.list()) if (job.name.includes('failed-items-crash')) jobs++;
    let datasets = 0;
    for await (const dataset of stack.datatureApi.datasets.list()) {
      if (dataset.name.includes('failed-items-crash')) datasets++;
    }
    expect({ jobs, datasets }).toEqual({ jobs: 2, datasets: 2 });
    // Round 2's upload was cut short and retried on the fresh worker.
    const { events } = await handle.fetchHistory();
    const uploads = new Set<string>();
    let lastUploadAttempt = 0;
    for (const event of events ?? []) {
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'uploadDataset')
        uploads.add(String(event.eventId));
      const started = event.activityTaskStartedEventAttributes;
      if (started && uploads.has(String(started.scheduledEventId))) lastUploadAttempt = started.attempt ?? 1;
    }
    expect(uploads.size).toBe(2);
    expect(lastUploadAttempt).toBeGreaterThan(1);
    const received = receivedItems(
      stack,
      result.rounds!.map((round) => round.jobId),
    );
    expect(received).toHaveLength(48);
    expect(new Set(received).size).toBe(48);
  } finally {
    await stopProcess(first, 'SIGKILL');
    if (second) await stopProcess(second);
    await stack.setFaults({});
  }
}, 180_000);

// Scheduled runs on the real Temporal dev server (the time-skipping server has no Schedules), executed by a
// real worker against the real emulator, delivering into the real receiver.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { type Receiver, startReceiver } from '../../src/receiver';
import {
  backfillBatchSchedule,
  createBatchSchedule,
  deleteBatchSchedule,
  describeBatchSchedule,
  pauseBatchSchedule,
  triggerBatchSchedule,
  unpauseBatchSchedule,
} from '../../src/schedules';
import { createWorker } from '../../src/worker';
import type { BatchPredictionInput } from '../../src/workflows/definitions';
import { readStored, tempDir } from '../receiver/helpers';
import { startItemHost } from '../receiver/item-host';
import { eventually, nthRunId, resultOf, useScheduleServer } from './helpers';

const env = useScheduleServer();

describe('scheduled runs on a real worker, emulator and receiver', () => {
  const taskQueue = 'schedules-test';
  let emulator: RunningEmulator;
  let datatureApi: DatatureClient;
  let itemHost: Awaited<ReturnType<typeof startItemHost>>;
  let receiver: Receiver;
  let tmp: ReturnType<typeof tempDir>;
  let webhookId: string;
  let stopWorker: () => Promise<void>;

  beforeAll(async () => {
    tmp = tempDir();
    itemHost = await startItemHost();
    emulator = await startEmulator({ port: 0, tickIntervalMs: 20 });
    datatureApi = new DatatureClient({
      secretKey: emulator.secretKey,
      projectId: emulator.projectId,
      baseUrl: emulator.url,
    });
    const secret = generateWebhookSecret();
    receiver = await startReceiver({ port: 0, secrets: [secret], outFile: join(tmp.dir, 'predictions.ndjson') });
    webhookId = (await datatureApi.webhooks.create({ name: 'receiver', endpoint: receiver.url, secret })).id;
    const worker = await createWorker({
      connection: env().nativeConnection,
      namespace: env().namespace ?? 'default',
      taskQueue,
      datature: { baseUrl: emulator.url, projectId: emulator.projectId, secretKey: emulator.secretKey },
      logsDir: join(tmp.dir, 'logs'),
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
    };
  }, 60_000);

  afterAll(async () => {
    await stopWorker?.();
    await receiver?.close();
    await emulator?.close();
    await itemHost?.close();
    tmp?.remove();
  });

  const writeItems = (path: string, count: number, from = 0) =>
    writeFileSync(
      path,
      Array.from(
        { length: count },
        (_, index) => `${JSON.stringify({ kind: 'Image', url: itemHost.itemUrl(from + index) })}\n`,
      ).join(''),
    );

  const runInput = (ndjsonPath: string, job: Partial<BatchPredictionInput['job']> = {}): BatchPredictionInput => ({
    dataset: { ndjsonPath },
    job: { deploymentId: emulator.deploymentId, webhookIds: [webhookId], ...job },
    polling: { minIntervalMs: 1000, maxIntervalMs: 1000 },
    receiverUrl: receiver.url,
  });

  async function datasetCount(): Promise<number> {
    let count = 0;
    for await (const _ of datatureApi.datasets.list()) count++;
    return count;
  }

  test('each trigger re-reads the file: two runs, two contents, two jobs; describe shows both results', async () => {
    const { client } = env();
    const source = join(tmp.dir, 'items.ndjson');
    writeItems(source, 3);
    // A cron far from now: only triggers start runs in this test.
    await createBatchSchedule(client, { scheduleId: 'rereads', cron: '0 3 1 1 *', taskQueue, input: runInput(source) });

    await triggerBatchSchedule(client, 'rereads');
    const first = await resultOf(client, await nthRunId(client, 'rereads', 0));
    expect(first).toMatchObject({
      outcome: 'completed',
      itemCount: 3,
      receiver: { predictions: 3, matchesDelivered: true },
    });

    writeItems(source, 5, 100);
    await triggerBatchSchedule(client, 'rereads');
    const second = await resultOf(client, await nthRunId(client, 'rereads', 1));
    expect(second).toMatchObject({
      outcome: 'completed',
      itemCount: 5,
      receiver: { predictions: 5, matchesDelivered: true },
    });
    expect(second.jobId).not.toBe(first.jobId);
    const secondJobItems = readStored(join(tmp.dir, 'predictions.ndjson'))
      .filter((line) => line.jobId === second.jobId)
      .map((line) => line.item.url)
      .sort();
    expect(secondJobItems).toEqual(Array.from({ length: 5 }, (_, index) => itemHost.itemUrl(100 + index)).sort());

    const described = await describeBatchSchedule(client, 'rereads');
    expect(described.recentRuns.map((run) => [run.status, run.result?.outcome, run.result?.itemCount])).toEqual([
      ['COMPLETED', 'completed', 3],
      ['COMPLETED', 'completed', 5],
    ]);
    expect(described.recentRuns[0].workflowId).toMatch(/^rereads-/);
    await deleteBatchSchedule(client, 'rereads');
  });

  // Relies on the validateSource activity reporting an empty file as itemCount 0 (not an NDJSON error).
  test('an empty source ends the run as a success with nothing to predict, creating no dataset', async () => {
    const { client } = env();
    const source = join(tmp.dir, 'empty-at-run-time.ndjson');
    writeFileSync(source, '');
    await createBatchSchedule(client, { scheduleId: 'empty', cron: '0 3 1 1 *', taskQueue, input: runInput(source) });
    const datasetsBefore = await datasetCount();
    await triggerBatchSchedule(client, 'empty');
    const result = await resultOf(client, await nthRunId(client, 'empty', 0));
    expect(result).toMatchObject({ outcome: 'nothing-to-predict', itemCount: 0 });
    expect(result.jobId).toBeUndefined();
    expect(await datasetCount()).toBe(datasetsBefore);
    await deleteBatchSchedule(client, 'empty');
  }, 30_000);

  // Relies on the validateSource activity failing non-retryably on a missing file (ENOENT), within seconds.
  test('an unreadable source fails the run with the reason, and pauseOnFailure pauses the schedule', async () => {
    const { client } = env();
    const missing = join(tmp.dir, 'no-such-file.ndjson');
    await createBatchSchedule(client, {
      scheduleId: 'unreadable',
      cron: '0 3 1 1 *',
      taskQueue,
      pauseOnFailure: true,
      input: runInput(missing),
    });
    await triggerBatchSchedule(client, 'unreadable');
    const workflowId = await nthRunId(client, 'unreadable', 0);
    await expect(resultOf(client, workflowId)).rejects.toBeInstanceOf(WorkflowFailedError);

    const described = await eventually('the schedule paused after the failure', async () => {
      const details = await describeBatchSchedule(client, 'unreadable');
      return details.paused ? details : undefined;
    });
    expect(described.recentRuns).toHaveLength(1);
    expect(described.recentRuns[0].status).toBe('FAILED');
    expect(described.recentRuns[0].failure).toMatch(/no-such-file\.ndjson|ENOENT|not found|cannot read/i);
    await deleteBatchSchedule(client, 'unreadable');
  }, 30_000);

  test('overlap SKIP: a run due while the previous one is still going is not started', async () => {
    const { client } = env();
    const source = join(tmp.dir, 'slow.ndjson');
    writeItems(source, 2, 200);
    // The job's start time is an hour away, so the first run stays waiting for its job.
    const startAtTime = new Date(Date.now() + 3_600_000).toISOString();
    const input = runInput(source, { startAtTime });
    await createBatchSchedule(client, { scheduleId: 'overlapping', cron: '0 3 1 1 *', taskQueue, input });

    await triggerBatchSchedule(client, 'overlapping');
    const firstRun = await nthRunId(client, 'overlapping', 0);
    await eventually('the first run counted as running', async () =>
      (await describeBatchSchedule(client, 'overlapping')).runningWorkflowIds.includes(firstRun) ? true : undefined,
    );
    // Run ids carry the scheduled time to the second: space the triggers so a start would get a new id
    // (a precondition of the test, not a window it has to hit). Each trigger is waited for until the
    // server has counted it as skipped.
    for (let attempt = 1; attempt <= 2; attempt++) {
      await sleep(1100);
      await triggerBatchSchedule(client, 'overlapping');
      await eventually(`trigger ${attempt} handled`, async () => {
        const details = await describeBatchSchedule(client, 'overlapping');
        return details.runsSkippedForOverlap + details.runsTaken >= 1 + attempt ? details : undefined;
      });
    }

    const described = await describeBatchSchedule(client, 'overlapping');
    expect(described.runningWorkflowIds).toEqual([firstRun]);
    expect(described.recentRuns.map((run) => run.workflowId)).toEqual([firstRun]);
    expect(described.runsTaken).toBe(1);
    expect(described.runsSkippedForOverlap).toBe(2);
    expect(described.recentRuns[0].status).toBe('RUNNING');
    // The run shows its source and model in the Web UI from its start, and is filterable by BatchPhase.
    const shown = await client.workflow.getHandle(firstRun).describe();
    expect(await shown.staticSummary()).toBe(`batch prediction: ${source} → deployment ${emulator.deploymentId}`);
    expect(await shown.staticDetails()).toContain(`**starts at**: ${startAtTime}`);
    await eventually('the run found by its BatchPhase', async () => {
      const query = `WorkflowId = '${firstRun}' AND BatchPhase IN ('validating', 'waiting-for-job')`;
      for await (const run of client.workflow.list({ query })) if (run.workflowId === firstRun) return true;
      return undefined;
    });

    await deleteBatchSchedule(client, 'overlapping');
    await client.workflow.getHandle(firstRun).terminate('test over');
  });

  test('pause stops automatic runs and unpause resumes them', async () => {
    const { client } = env();
    const source = join(tmp.dir, 'empty.ndjson');
    writeFileSync(source, '');
    await createBatchSchedule(client, {
      scheduleId: 'ticking',
      every: '1s',
      paused: true,
      taskQueue,
      input: runInput(source),
    });
    // A witness on the same 1 s interval, never paused: its runs prove the server's scheduler did tick,
    // however slowly, where a fixed sleep would only hope so.
    await createBatchSchedule(client, { scheduleId: 'witness', every: '1s', taskQueue, input: runInput(source) });
    const witnessTicks = async (count: number) => {
      const from = (await describeBatchSchedule(client, 'witness')).runsTaken;
      await eventually(`${count} more witness runs`, async () =>
        (await describeBatchSchedule(client, 'witness')).runsTaken >= from + count ? true : undefined,
      );
    };
    await witnessTicks(2);
    expect((await describeBatchSchedule(client, 'ticking')).runsTaken).toBe(0);

    await unpauseBatchSchedule(client, 'ticking');
    await eventually('two automatic runs', async () => {
      const details = await describeBatchSchedule(client, 'ticking');
      return details.runsTaken >= 2 ? details : undefined;
    });
    await pauseBatchSchedule(client, 'ticking', 'enough');
    // A run the scheduler was starting as the pause landed may still be counted: one witness tick settles it.
    await witnessTicks(1);
    const takenWhenPaused = (await describeBatchSchedule(client, 'ticking')).runsTaken;
    await witnessTicks(2);
    const later = await describeBatchSchedule(client, 'ticking');
    expect(later.runsTaken).toBe(takenWhenPaused);
    expect(later).toMatchObject({ paused: true, note: 'enough' });
    await deleteBatchSchedule(client, 'witness');
    await deleteBatchSchedule(client, 'ticking');
  });

  test('backfill takes the runs a past window would have had', async () => {
    const { client } = env();
    const source = join(tmp.dir, 'backfill.ndjson');
    writeItems(source, 1, 300);
    await createBatchSchedule(client, { scheduleId: 'backfilled', every: '1h', taskQueue, input: runInput(source) });
    const hour = 3_600_000;
    const end = new Date(Math.floor(Date.now() / hour) * hour - hour / 2);
    await backfillBatchSchedule(client, 'backfilled', {
      start: new Date(end.getTime() - 3 * hour),
      end,
      overlap: 'ALLOW_ALL',
    });
    const details = await eventually('three backfilled runs', async () => {
      const described = await describeBatchSchedule(client, 'backfilled');
      return described.recentRuns.length >= 3 ? described : undefined;
    });
    expect(details.recentRuns.map((run) => run.scheduledAt.getTime() % hour)).toEqual([0, 0, 0]);
    for (const run of details.recentRuns)
      await expect(resultOf(client, run.workflowId)).resolves.toMatchObject({ outcome: 'completed', itemCount: 1 });
    await deleteBatchSchedule(client, 'backfilled');
  });
});

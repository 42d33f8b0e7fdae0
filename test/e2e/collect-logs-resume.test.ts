// The log collection activity against the real emulator: a retry resuming from a heartbeat cursor drops
// the unconfirmed tail of the file and writes each remaining entry once. MockActivityEnvironment stands in
// for the worker only to hand the activity its heartbeat details, as Temporal does on a retry.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { LogsSummary } from '../../src/workflows/definitions';
import { type E2eStack, startE2eStack } from './harness';

let stack: E2eStack;
let jobId: string;

beforeAll(async () => {
  stack = await startE2eStack();
  const dataset = await stack.datatureApi.datasets.create({
    name: 'logs-resume',
    source: stack.writeDataset('logs.ndjson', 30),
  });
  await stack.datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 100 });
  const job = await stack.datatureApi.jobs.create({
    name: 'logs-resume',
    datasetId: dataset.id,
    deploymentId: stack.emulator.deploymentId,
    webhookIds: [stack.webhookId],
  });
  jobId = job.id;
  await stack.datatureApi.jobs.waitUntilDone(jobId, { intervalMs: 100 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

function activities() {
  return createActivities({
    secretKey: stack.emulator.secretKey,
    projectId: stack.emulator.projectId,
    baseUrl: stack.emulator.url,
    logsDir: join(stack.dir, 'logs'),
  });
}

test('a retry resumes after the heartbeat cursor without duplicates', async () => {
  const request = { jobId, fileName: 'resume.logs.ndjson' };
  const heartbeats: unknown[] = [];
  const first = new MockActivityEnvironment();
  first.on('heartbeat', (details: unknown) => heartbeats.push(details));
  const complete: LogsSummary = await first.run(activities().collectLogs, request);
  expect(complete.entries).toBe(30);
  const lines = readFileSync(complete.filePath, 'utf8').split('\n').filter(Boolean);
  expect(heartbeats.length).toBeGreaterThan(0);

  // As if the first attempt died after confirming 12 entries and writing a few more (plus half a line).
  const confirmed = lines.slice(0, 12);
  const oldest = JSON.parse(confirmed[11]) as { createTime: number; id: string };
  // What the activity heartbeats: every id written at the oldest millisecond (items finish together).
  const idsAtOldestTime = confirmed
    .map((line) => JSON.parse(line) as { createTime: number; id: string })
    .filter((entry) => entry.createTime === oldest.createTime)
    .map((entry) => entry.id);
  writeFileSync(complete.filePath, [...lines.slice(0, 15), '{"half":'].join('\n'));
  const cursor = {
    bytes: Buffer.byteLength(confirmed.map((line) => line + '\n').join('')),
    oldestTime: oldest.createTime,
    idsAtOldestTime,
    summary: { entries: 12, byStatus: { Delivered: 12 }, byLevel: { Info: 12 }, firstFailures: [] },
  };
  const retry = new MockActivityEnvironment({ heartbeatDetails: cursor, attempt: 2 });
  const resumed: LogsSummary = await retry.run(activities().collectLogs, request);

  const resumedLines = readFileSync(resumed.filePath, 'utf8').split('\n').filter(Boolean);
  expect(resumedLines).toEqual(lines);
  expect(resumed.entries).toBe(30);
  expect(resumed.byStatus).toEqual(complete.byStatus);
});

test.each(['../escape', '/tmp'])(
  'a logs folder outside the worker logs directory (%s) is refused',
  async (directory) => {
    const run = new MockActivityEnvironment().run(activities().collectLogs, {
      jobId,
      fileName: 'escape.logs.ndjson',
      directory,
    });
    await expect(run).rejects.toThrow("is outside the worker's logs directory");
  },
);

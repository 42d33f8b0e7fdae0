// collectFailedItems against the real emulator: the failed items of a job sorted into the next round's
// dataset file and the run's failed file; an attempt repeated (a retry) writes nothing twice; a failed file
// of an earlier round missing on this worker is named, not retried forever.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import type { CollectFailedItemsRequest, FailedItemsCollected } from '../../src/workflows/failed-items';
import { type ImageServer, startImageServer, startReceiver } from '../emulator/helpers';

let emulator: RunningEmulator;
let images: ImageServer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let jobId: string;
let logsDir: string;
const missing = [0, 1, 2].map((n) => `http://127.0.0.1:9/missing-${n}.png`);

beforeAll(async () => {
  logsDir = mkdtempSync(join(tmpdir(), 'failed-items-'));
  // Every item of the seed (a fifth) fails its first delivery; three URLs cannot be gathered at all.
  emulator = await startEmulator({
    tickIntervalMs: 20,
    gatherTimeoutMs: 2000,
    faults: { flakyItems: { rate: 0.2, stages: ['deliver'], seed: 5 } },
  });
  images = await startImageServer();
  receiver = await startReceiver();
  const datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  const webhookId = (
    await datatureApi.webhooks.create({ name: 'sink', endpoint: receiver.url, secret: generateWebhookSecret() })
  ).id;
  const items = [
    ...Array.from({ length: 30 }, (_, n) => ({ kind: 'Image' as const, url: `${images.url}/img/${n}.png` })),
    ...missing.map((url) => ({ kind: 'Image' as const, url })),
  ];
  const datasetId = (await datatureApi.datasets.create({ name: 'failed-items', source: items })).id;
  await datatureApi.datasets.waitUntilDone(datasetId, { intervalMs: 50 });
  jobId = (
    await datatureApi.jobs.create({
      name: 'failed-items',
      datasetId,
      webhookIds: [webhookId],
      deploymentId: emulator.deploymentId,
    })
  ).id;
  await datatureApi.jobs.waitUntilDone(jobId, { intervalMs: 50 });
});

afterAll(async () => {
  await emulator?.close();
  await images?.close();
  await receiver?.close();
  rmSync(logsDir, { recursive: true, force: true });
});

function collect(request: Omit<CollectFailedItemsRequest, 'jobId'>): Promise<FailedItemsCollected> {
  const activities = createActivities({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
    logsDir,
  });
  return new MockActivityEnvironment().run(activities.collectFailedItems, { jobId, ...request });
}

const files = { fileName: 'run.failed.ndjson', reasonsFileName: 'run.failed.reasons.ndjson' };
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

test('retried statuses go to the next round file, the others to the failed file; a repeated attempt adds nothing twice', async () => {
  const request = {
    round: 1,
    failed: { ...files, bytes: 0, reasonsBytes: 0 },
    retry: { statuses: ['FailedDeliver'], fileName: 'run.r2.items.ndjson' },
  };
  const first = await collect(request);
  const deliverFailures = first.byStatus.FailedDeliver;
  expect(deliverFailures).toBeGreaterThan(0);
  expect(first.byStatus.FailedGather).toBe(3);
  expect(first.retry).toMatchObject({ itemCount: deliverFailures, filePath: join(logsDir, 'run.r2.items.ndjson') });
  expect(first.retry!.sizeBytes).toBe(statSync(first.retry!.filePath).size);
  expect(lines(first.retry!.filePath)).toEqual(
    expect.arrayContaining([{ kind: 'Image', url: expect.stringMatching(/\/img\//) }]),
  );
  expect(first.failed.added).toBe(3);
  expect(
    lines(first.failed.filePath)
      .map((item) => item.url)
      .sort(),
  ).toEqual(missing);
  expect(lines(first.failed.reasonsFilePath)[0]).toMatchObject({
    status: 'FailedGather',
    reason: expect.any(String),
    outcome: 'failed after 1 round',
    jobId,
  });
  // The same attempt again (a retry after a crash that had written more): cut back to where the round started.
  appendFileSync(
    first.failed.filePath,
    `${JSON.stringify({ kind: 'Image', url: 'http://written/by/a/crashed/attempt' })}\n`.repeat(50),
  );
  const again = await collect(request);
  expect(again).toEqual(first);
  expect(lines(again.failed.filePath)).toHaveLength(3);

  // The last round: everything goes to the failed file, after what the rounds before wrote (and nothing that
  // a crashed attempt of this round had added).
  appendFileSync(
    first.failed.filePath,
    `${JSON.stringify({ kind: 'Image', url: 'http://crashed/round-2' })}\n`.repeat(500),
  );
  const last = await collect({
    round: 2,
    failed: { ...files, bytes: first.failed.bytes, reasonsBytes: first.failed.reasonsBytes },
  });
  expect(last.retry).toBeUndefined();
  expect(last.failed.added).toBe(3 + deliverFailures);
  expect(lines(last.failed.filePath)).toHaveLength(3 + 3 + deliverFailures);
  expect(lines(last.failed.reasonsFilePath).at(-1)).toMatchObject({ outcome: 'failed after 2 rounds' });
});

test("an earlier round's failed file missing on this worker fails at once, naming it", async () => {
  const error = await collect({
    round: 2,
    failed: {
      fileName: 'elsewhere.failed.ndjson',
      reasonsFileName: 'elsewhere.reasons.ndjson',
      bytes: 10,
      reasonsBytes: 10,
    },
  }).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({
    type: 'SourceUnreadable',
    nonRetryable: true,
    message: expect.stringMatching(/elsewhere\.failed\.ndjson.*DATATURE_LOGS_DIR/),
  });
});

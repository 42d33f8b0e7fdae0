// uploadDataset against the real emulator: idempotent by name. A retry finds the dataset an earlier
// attempt uploaded and reuses it when it holds the expected items; an Uploaded dataset of that name
// holding another number of items (e.g. the source changed between attempts) is deleted and replaced.
// MockActivityEnvironment only gives the activity its context, as a worker would.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SourceSummary } from '../../src/activities';
import { DatatureClient, NotFoundError } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';

let emulator: RunningEmulator;
let datatureApi: DatatureClient;

beforeAll(async () => {
  emulator = await startEmulator({ tickIntervalMs: 20 });
  datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
});

afterAll(async () => {
  await emulator?.close();
});

const activities = () =>
  createActivities({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
    logsDir: '/tmp',
  });

const items = (count: number) =>
  Array.from({ length: count }, (_, n) => ({ kind: 'Image' as const, url: `http://127.0.0.1:9/img/${n}.png` }));

async function upload(name: string, count: number): Promise<string> {
  const source = { items: items(count) };
  const env = new MockActivityEnvironment();
  const expected: SourceSummary = await env.run(activities().validateSource, source);
  expect(expected.itemCount).toBe(count);
  const { datasetId }: { datasetId: string } = await env.run(activities().uploadDataset, { name, source, expected });
  return datasetId;
}

async function liveNamed(name: string) {
  const found = [];
  for await (const dataset of datatureApi.datasets.list()) if (dataset.name === name) found.push(dataset);
  return found;
}

test('an Uploaded dataset of the name with the expected item count is reused', async () => {
  const first = await upload('same-count', 3);
  await datatureApi.datasets.waitUntilDone(first, { intervalMs: 50, timeoutMs: 30_000 });
  expect(await upload('same-count', 3)).toBe(first);
  expect((await liveNamed('same-count')).map((dataset) => dataset.id)).toEqual([first]);
});

test('an Uploaded dataset of the name with another item count is deleted and replaced', async () => {
  const stale = await upload('changed-count', 2);
  expect(
    (await datatureApi.datasets.waitUntilDone(stale, { intervalMs: 50, timeoutMs: 30_000 })).status.itemCount,
  ).toBe(2);

  const replacement = await upload('changed-count', 5);
  expect(replacement).not.toBe(stale);
  await expect(datatureApi.datasets.get(stale)).rejects.toBeInstanceOf(NotFoundError);
  const done = await datatureApi.datasets.waitUntilDone(replacement, { intervalMs: 50, timeoutMs: 30_000 });
  expect(done.status.itemCount).toBe(5);
  expect((await liveNamed('changed-count')).map((dataset) => dataset.id)).toEqual([replacement]);
});

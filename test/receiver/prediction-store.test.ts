import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PredictionStore, type StoredPrediction } from '../../src/receiver/prediction-store';
import { tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const record = (deliveryId: string, jobId = 'job_1'): StoredPrediction => ({
  deliveryId,
  jobId,
  datasetId: 'dataset_1',
  item: { kind: 'Image', url: `http://127.0.0.1/${deliveryId}` },
  predictions: [],
  receivedAt: new Date().toISOString(),
});

test('concurrent appends of the same delivery id store it once', async () => {
  const path = join(tmp.dir, 'out.ndjson');
  const store = await PredictionStore.open(path);
  const outcomes = await Promise.all([
    store.append(record('a')),
    store.append(record('a')),
    store.append(record('b', 'job_2')),
    store.append(record('a')),
  ]);
  expect(outcomes).toEqual(['stored', 'duplicate', 'stored', 'duplicate']);
  await store.close();
  expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
});

test('reopening rebuilds the index and counts, and cuts a torn last line left by a crash', async () => {
  const path = join(tmp.dir, 'out.ndjson');
  writeFileSync(path, `${JSON.stringify(record('a'))}\n${JSON.stringify(record('b', 'job_2'))}\n`);
  appendFileSync(path, '{"deliveryId":"c","jobId":"jo');
  const store = await PredictionStore.open(path);
  expect(store.total).toBe(2);
  expect(store.counts()).toEqual({ job_1: 1, job_2: 1 });
  expect(await store.append(record('a'))).toBe('duplicate');
  expect(await store.append(record('c'))).toBe('stored');
  await store.close();
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  expect(lines.map((line) => (JSON.parse(line) as StoredPrediction).deliveryId)).toEqual(['a', 'b', 'c']);
});

test('refuses to append to a file that is not a predictions file', async () => {
  const path = join(tmp.dir, 'notes.ndjson');
  writeFileSync(path, 'hello\n');
  await expect(PredictionStore.open(path)).rejects.toThrow(/notes.ndjson:1 is not a stored prediction line/);
});

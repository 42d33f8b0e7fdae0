import { readFileSync } from 'node:fs';
import { BatchInputError, describeRun, parseBatchPredictionInput } from '../../src/run-client';
import { JSON_SCHEMA_PATH, renderJsonSchema } from '../../src/run-client/write-json-schema';

const valid = {
  dataset: { ndjsonPath: '/data/batch.ndjson' },
  job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'] },
};

test('the committed JSON Schema is what the zod schema generates (npx tsx src/run-client/write-json-schema.ts)', () => {
  // Compared as JSON: the formatter may re-wrap the committed file.
  expect(JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8'))).toEqual(JSON.parse(renderJsonSchema()));
});

test('a minimal input passes unchanged', () => {
  expect(parseBatchPredictionInput(valid)).toEqual(valid);
});

test('job times are ISO-8601 once parsed: epoch ms (older callers) and offsets are normalised', () => {
  const start = Date.UTC(2031, 0, 2, 3, 4, 5);
  const parsed = parseBatchPredictionInput({
    ...valid,
    job: { ...valid.job, startAtTime: start, stopAtTime: '2031-01-02T07:04:05+02:00' },
  });
  expect(parsed.job).toMatchObject({ startAtTime: '2031-01-02T03:04:05.000Z', stopAtTime: '2031-01-02T05:04:05.000Z' });
  expect(() =>
    parseBatchPredictionInput({ ...valid, job: { ...valid.job, startAtTime: start, stopAtTime: start } }),
  ).toThrow('startAtTime must be before stopAtTime');
  expect(() => parseBatchPredictionInput({ ...valid, job: { ...valid.job, startAtTime: 'tomorrow' } })).toThrow(
    'job.startAtTime',
  );
});

test("a run's Web UI summary and details name source, model and item count, never a URL's query", () => {
  const input = parseBatchPredictionInput({
    dataset: { ndjsonUrl: 'https://bucket.example.com/cells.ndjson?X-Goog-Signature=abc123secret' },
    job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'], startAtTime: Date.UTC(2031, 0, 1) },
  });
  const shown = describeRun(input);
  expect(shown.staticSummary).toBe(
    'batch prediction: https://bucket.example.com/cells.ndjson?[REDACTED] → deployment deploy_1',
  );
  expect(shown.staticDetails).toContain('**starts at**: 2031-01-01T00:00:00.000Z');
  expect(JSON.stringify(shown)).not.toContain('abc123secret');
  expect(shown.typedSearchAttributes).toEqual([
    { key: expect.objectContaining({ name: 'BatchPhase' }), value: 'validating' },
  ]);
  const inline = describeRun(
    parseBatchPredictionInput({ ...valid, dataset: { items: [{ kind: 'Image', url: 'http://x/a.png' }] } }),
  );
  expect(inline.staticSummary).toBe('batch prediction: 1 inline items → deployment deploy_1');
  expect(describeRun(parseBatchPredictionInput({ job: { jobId: 'batchjob_1' } })).typedSearchAttributes[0].value).toBe(
    'creating-job',
  );
});

test.each([
  ['two dataset sources', { ...valid, dataset: { ndjsonPath: '/a', datasetId: 'd' } }, 'dataset'],
  [
    'no deployment',
    { ...valid, job: { webhookIds: ['webhook_1'] } },
    'job: give exactly one of deploymentId, deploymentIds or artifactId',
  ],
  [
    'two ways to name the deployment',
    {
      ...valid,
      job: { ...valid.job, deploymentIds: ['deploy_2'] },
      sharding: { maxItemsPerShard: 10, maxParallelShards: 2 },
    },
    'job: give exactly one of deploymentId, deploymentIds or artifactId',
  ],
  [
    'deploymentIds without sharding',
    { ...valid, job: { webhookIds: ['webhook_1'], deploymentIds: ['deploy_1', 'deploy_2'] } },
    'job.deploymentIds: goes with sharding',
  ],
  [
    'sharding an existing dataset',
    { ...valid, dataset: { datasetId: 'dataset_1' }, sharding: { maxItemsPerShard: 10, maxParallelShards: 2 } },
    'sharding: needs a source of items',
  ],
  [
    'sharding a shard',
    {
      ...valid,
      dataset: { ndjsonPath: '/a', itemRange: { start: 0, end: 10 } },
      sharding: { maxItemsPerShard: 10, maxParallelShards: 2 },
    },
    'sharding: the source already names an item range',
  ],
  [
    'an empty item range',
    { ...valid, dataset: { ndjsonPath: '/a', itemRange: { start: 5, end: 5 } } },
    'start must be',
  ],
  [
    "an item range's bytes from a caller (only a sharded parent gives them, in its child's memo)",
    { ...valid, dataset: { ndjsonPath: '/a', itemRange: { start: 10, end: 20, byteStart: 0 } } },
    'byteStart',
  ],
  [
    'too many shards at once',
    { ...valid, sharding: { maxItemsPerShard: 10, maxParallelShards: 101 } },
    'sharding.maxParallelShards',
  ],
  [
    'a shard of no item',
    { ...valid, sharding: { maxItemsPerShard: 0, maxParallelShards: 1 } },
    'sharding.maxItemsPerShard',
  ],
  [
    'too many inline items',
    { ...valid, dataset: { items: Array.from({ length: 1001 }, () => ({ kind: 'Image', url: 'http://x/a.jpg' })) } },
    'dataset',
  ],
  ['a secret smuggled in', { ...valid, secretKey: 'oops' }, 'Unrecognized key'],
  ['start after stop', { ...valid, job: { ...valid.job, startAtTime: 20, stopAtTime: 10 } }, 'startAtTime must be'],
  ['a stop time already past', { ...valid, job: { ...valid.job, stopAtTime: 10 } }, 'job.stopAtTime: is in the past'],
  ['a misspelt log level', { ...valid, logs: { collect: true, minLevel: 'Eror' } }, 'logs.minLevel'],
  ['an absolute logs folder', { ...valid, logs: { collect: true, directory: '/etc' } }, 'logs.directory: must be'],
  ['a logs folder climbing out', { ...valid, logs: { collect: true, directory: 'a/../../b' } }, 'logs.directory'],
  ['a Windows drive logs folder', { ...valid, logs: { collect: true, directory: 'C:\\x' } }, 'logs.directory'],
])('rejects %s', (_label, input, message) => {
  expect(() => parseBatchPredictionInput(input)).toThrow(BatchInputError);
  expect(() => parseBatchPredictionInput(input)).toThrow(message);
});

test('a sharded input over several deployments passes unchanged', () => {
  const input = {
    ...valid,
    job: { webhookIds: ['webhook_1'], deploymentIds: ['deploy_1', 'deploy_2'] },
    sharding: { maxItemsPerShard: 10_000, maxParallelShards: 4, maxShardAttempts: 2 },
  };
  expect(parseBatchPredictionInput(input)).toEqual(input);
});

test('a relative logs folder and a known level pass', () => {
  const input = { ...valid, logs: { collect: true, minLevel: 'Error', directory: 'nightly/2026..11' } };
  expect(parseBatchPredictionInput(input)).toEqual(input);
});

test('retryFailedItems: rounds, retried statuses and delay are checked where the input enters', () => {
  const retry = { maxRounds: 2, statuses: ['FailedGather', 'FailedPredict'], delayMs: 0 };
  expect(parseBatchPredictionInput({ ...valid, retryFailedItems: retry }).retryFailedItems).toEqual(retry);
  expect(parseBatchPredictionInput({ ...valid, retryFailedItems: { maxRounds: 0 } }).retryFailedItems).toEqual({
    maxRounds: 0,
  });
  expect(() => parseBatchPredictionInput({ ...valid, retryFailedItems: { statuses: ['Delivered'] } })).toThrow(
    'retryFailedItems.statuses.0',
  );
  expect(() => parseBatchPredictionInput({ ...valid, retryFailedItems: { maxRounds: 11 } })).toThrow(
    'retryFailedItems.maxRounds',
  );
  expect(() => parseBatchPredictionInput({ ...valid, retryFailedItems: { rounds: 1 } })).toThrow('retryFailedItems');
});

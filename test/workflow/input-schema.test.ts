import { readFileSync } from 'node:fs';
import { BatchInputError, parseBatchPredictionInput } from '../../src/client';
import { JSON_SCHEMA_PATH, renderJsonSchema } from '../../src/client/write-json-schema';

const valid = {
  dataset: { ndjsonPath: '/data/batch.ndjson' },
  job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'] },
};

test('the committed JSON Schema is what the zod schema generates (npx tsx src/client/write-json-schema.ts)', () => {
  // Compared as JSON: the formatter may re-wrap the committed file.
  expect(JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8'))).toEqual(JSON.parse(renderJsonSchema()));
});

test('a minimal input passes unchanged', () => {
  expect(parseBatchPredictionInput(valid)).toEqual(valid);
});

test.each([
  ['two dataset sources', { ...valid, dataset: { ndjsonPath: '/a', datasetId: 'd' } }, 'dataset'],
  [
    'no deployment',
    { ...valid, job: { webhookIds: ['webhook_1'] } },
    'job: give exactly one of deploymentId or artifactId',
  ],
  [
    'too many inline items',
    { ...valid, dataset: { items: Array.from({ length: 1001 }, () => ({ kind: 'Image', url: 'http://x/a.jpg' })) } },
    'dataset',
  ],
  ['a secret smuggled in', { ...valid, secretKey: 'oops' }, 'Unrecognized key'],
  ['start after stop', { ...valid, job: { ...valid.job, startAtTime: 20, stopAtTime: 10 } }, 'startAtTime must be'],
])('rejects %s', (_label, input, message) => {
  expect(() => parseBatchPredictionInput(input)).toThrow(BatchInputError);
  expect(() => parseBatchPredictionInput(input)).toThrow(message);
});

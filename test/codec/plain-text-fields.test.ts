// What Temporal keeps readable whatever the codec: search attributes (indexed, never encoded). They hold the
// phase and Datature ids only, never a URL or a path (docs/codec.md). Summary, details and memo are encoded by
// the codec when it is on; without it they still show a URL's query masked. The e2e suite checks a finished
// run's attributes; here every place that sets them before a run starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun } from '../../src/run-client';
import { toAction } from '../../src/schedules/batch-schedule-options';
import { BatchPhaseKey, type BatchPredictionInput } from '../../src/workflows/definitions';

const SIGNED = 'https://bucket.example.com/secret-folder/cells.ndjson?X-Goog-Signature=abc123';
const input: BatchPredictionInput = {
  dataset: { ndjsonUrl: SIGNED },
  job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'] },
  logs: { collect: true, directory: 'plates/2026' },
  receiverUrl: 'https://receiver.example.com/hook?token=zzz',
};

test('a run starts with BatchPhase only; summary and details mask every URL query', () => {
  const description = describeRun(input);
  expect(description.typedSearchAttributes).toEqual([{ key: BatchPhaseKey, value: 'validating' }]);
  const shown = `${description.staticSummary}\n${description.staticDetails}`;
  expect(shown).not.toContain('X-Goog-Signature');
  expect(shown).not.toContain('token=zzz');
});

test('a schedule’s action: BatchPhase only as search attribute, the memo shows the source masked', () => {
  const action = toAction('nightly', input, { cron: '0 2 * * *' });
  expect(action.typedSearchAttributes).toEqual([{ key: BatchPhaseKey, value: 'validating' }]);
  const memo = JSON.stringify(action.memo);
  expect(memo).not.toContain('X-Goog-Signature');
  expect(memo).toContain('https://bucket.example.com/secret-folder/cells.ndjson?[REDACTED]');
});

test('the workflow upserts the phase and the two ids, nothing else', () => {
  const source = readFileSync(join(__dirname, '..', '..', 'src', 'workflows', 'batch-prediction.ts'), 'utf8');
  const upserts = [...source.matchAll(/upsertSearchAttributes\(\[([\s\S]*?)\]\);/g)].map((match) => match[1]);
  expect(upserts).toHaveLength(1);
  const keys = [...upserts[0].matchAll(/key: (\w+)/g)].map((match) => match[1]);
  expect(keys).toEqual(['BatchPhaseKey', 'BatchDatasetIdKey', 'BatchJobIdKey']);
  expect(upserts[0]).toMatch(/value: phase\b/);
  expect(upserts[0]).toMatch(/value: datasetId\b/);
  expect(upserts[0]).toMatch(/value: jobId\b/);
});

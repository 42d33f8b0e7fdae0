import { nextPollDelayMs } from '../../src/workflows/poll-interval';
import { datasetNameFor, jobNameFor, logFileNameFor } from '../../src/workflows/resource-names';

const bounds = { minIntervalMs: 5_000, maxIntervalMs: 600_000 };

test('resource names are deterministic, distinct per workflow id, readable and at most 120 chars', () => {
  expect(datasetNameFor('nightly/2026-11-28')).toBe(datasetNameFor('nightly/2026-11-28'));
  expect(datasetNameFor('nightly/2026-11-28')).toMatch(/^wf-ds-nightly-2026-11-28-[0-9a-f]{12}$/);
  expect(datasetNameFor('a/b')).not.toBe(datasetNameFor('a-b'));
  expect(jobNameFor('run-1', 'cells')).toMatch(/^cells-[0-9a-f]{12}$/);
  const long = 'x'.repeat(500);
  expect(datasetNameFor(long).length).toBeLessThanOrEqual(120);
  expect(datasetNameFor(long)).not.toBe(datasetNameFor(long + 'y'));
  expect(logFileNameFor('run/1')).toMatch(/^run-1-[0-9a-f]{12}\.logs\.ndjson$/);
});

test('the poll delay grows with the time waited and is capped by the bounds', () => {
  expect(nextPollDelayMs({ elapsedMs: 0, accounted: 0, itemCount: 100, bounds })).toBe(5_000);
  expect(nextPollDelayMs({ elapsedMs: 1_000_000, accounted: 0, itemCount: 100, bounds })).toBe(200_000);
  expect(nextPollDelayMs({ elapsedMs: 86_400_000, accounted: 0, itemCount: 100, bounds })).toBe(600_000);
});

test('the poll delay shrinks to half the estimated time left near the end', () => {
  // 90 of 100 items in 900 s: about 100 s left, so sleep 50 s rather than a fifth of 900 s.
  expect(nextPollDelayMs({ elapsedMs: 900_000, accounted: 90, itemCount: 100, bounds })).toBe(50_000);
});

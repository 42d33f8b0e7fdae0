// When the CLI watch asks a run for its progress (each query is billable on Temporal Cloud), and how it says a
// sharded run's shards.
import { describeShards, queryIsDue, SHARDED_QUERY_INTERVAL_MS } from '../../src/cli/run-progress';

const now = 1_000_000;

test('a sharded run, whose counters move with no planned look, is asked every SHARDED_QUERY_INTERVAL_MS', () => {
  const view = { now, queriedPhase: 'running-shards' as const, describedPhase: 'running-shards' as const };
  expect(queryIsDue({ ...view, sharded: true, lastQueryAt: now - SHARDED_QUERY_INTERVAL_MS })).toBe(true);
  expect(queryIsDue({ ...view, sharded: true, lastQueryAt: now - SHARDED_QUERY_INTERVAL_MS + 1 })).toBe(false);
  // A single run with nothing planned is not asked again.
  expect(queryIsDue({ ...view, lastQueryAt: now - 10 * SHARDED_QUERY_INTERVAL_MS })).toBe(false);
});

test('the shards in a few words', () => {
  expect(describeShards({ total: 20, waiting: 12, running: 2, done: 5, failed: 1, retries: 3 })).toBe(
    'shards: 5 done, 2 running, 1 failed, 12 waiting of 20, 3 retried',
  );
  expect(describeShards({ total: 3, waiting: 0, running: 0, done: 3, failed: 0, retries: 0 })).toBe(
    'shards: 3 done, 0 running, 0 failed, 0 waiting of 3',
  );
});

// Replays the committed histories (one per path of the workflow, recorded by `npx tsx scripts/record-histories.ts`
// and never overwritten; the oldest from an e2e run of an earlier version) against today's workflow code:
// a change to src/workflows that would break a running execution fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const fixturesDir = join(__dirname, '..', 'fixtures', 'histories');
const fixtures = readdirSync(fixturesDir).filter((name) => name.endsWith('.json'));

let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows') });
}, 60_000);

/**
 * The workflow id scripts/record-histories.ts gave the run (`recorded-<scenario>`): a sharded run's child ids
 * derive from it, so its replay must use the same. (Other runs do not depend on their id.)
 */
function recordedWorkflowId(fileName: string): string {
  return `recorded-${fileName.replace(/\.[^.]+\.json$/, '').replace(/-run\d+$/, '')}`;
}

test('there are committed histories to replay', () => {
  expect(fixtures.length).toBeGreaterThan(0);
});

test.each(fixtures)('%s replays without non-determinism', async (name) => {
  // The files are protobufjs' JSON of a History (what fetchHistory returns), read back with fromObject.
  const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(fixturesDir, name), 'utf8')));
  const results = Worker.runReplayHistories({ workflowBundle }, [{ workflowId: recordedWorkflowId(name), history }]);
  let replayed = 0;
  for await (const result of results) {
    expect(result.error).toBeUndefined();
    replayed += 1;
  }
  expect(replayed).toBe(1);
});

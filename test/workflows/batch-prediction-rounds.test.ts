// Retry rounds of failed items on the workflow clock: the delay before a round, what each round reports,
// the failed items of a status that is not retried, and a run without failed items asking nothing new.
// Time-skipping server + scripted API (its failures are FailedPredict; a retry round's items succeed).
import { type ScriptedOptions, scriptedApi, scriptedInput } from './scripted-activities';
import { runScripted } from './scripted-run';
import { useTimeSkipping } from './time-skipping-env';

const HOUR = 3_600_000;
const suite = useTimeSkipping();

async function run(options: Omit<ScriptedOptions, 'client'>, input: unknown) {
  const api = scriptedApi({ ...options, client: suite.env.client });
  return { ...(await runScripted(suite, api, input)), api };
}

test('failed items of a retried status run again as a round of their own, after delayMs, with names of that round', async () => {
  const { result, error, api, stats } = await run(
    { itemCount: 100, jobDurationMs: HOUR, failEvery: 10 },
    scriptedInput({ retryFailedItems: { statuses: ['FailedPredict'], delayMs: 10 * 60_000 } }),
  );
  expect(error).toBeUndefined();
  expect(result!.rounds).toEqual([
    {
      round: 1,
      jobId: 'job_1',
      datasetId: 'dataset_1',
      itemsIn: 100,
      delivered: 90,
      failed: { gather: 0, process: 0, predict: 10, deliver: 0 },
      retried: 10,
    },
    {
      round: 2,
      jobId: 'job_2',
      datasetId: 'dataset_2',
      itemsIn: 10,
      delivered: 10,
      failed: { gather: 0, process: 0, predict: 0, deliver: 0 },
      retried: 0,
    },
  ]);
  expect(result!.items).toEqual({ delivered: 100, failed: 0 });
  // The run is reported as round 1's job; the round's own job has the round in its name.
  expect(result!).toMatchObject({ jobId: 'job_1', datasetId: 'dataset_1', itemCount: 100 });
  expect(api.jobs.map((job) => job.name)).toEqual([
    expect.not.stringMatching(/-r2-/),
    expect.stringMatching(/^wf-job-batch-.*-r2-[0-9a-f]{12}$/),
  ]);
  // Only round 1 had failed items to collect.
  expect(api.calls).toMatchObject({ collectFailedItems: 1, uploadDataset: 2, createJob: 2 });
  // The second job started after the delay.
  expect(api.jobs[1].createdAt - api.jobs[0].createdAt).toBeGreaterThanOrEqual(HOUR + 10 * 60_000);
  expect(stats.timerDurationsMs).toContain(10 * 60_000);
});

test('failed items of a status that is not retried (default: gather and deliver only) go to the failed file at once', async () => {
  const { result, api } = await run({ itemCount: 100, jobDurationMs: HOUR, failEvery: 10 }, scriptedInput());
  expect(result!.rounds).toHaveLength(1);
  expect(result!.items).toEqual({
    delivered: 90,
    failed: 10,
    failedFile: expect.stringMatching(/\.failed\.ndjson$/),
    reasonsFile: expect.stringMatching(/\.failed\.reasons\.ndjson$/),
  });
  expect(api.calls).toMatchObject({ collectFailedItems: 1, createJob: 1 });
});

test('a run without failed items collects nothing and reports no rounds (its command sequence is unchanged)', async () => {
  const { result, api } = await run({ itemCount: 20, jobDurationMs: HOUR }, scriptedInput());
  expect(result!.rounds).toBeUndefined();
  expect(result!.items).toBeUndefined();
  expect(api.calls.collectFailedItems).toBeUndefined();
});

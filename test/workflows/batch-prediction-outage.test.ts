// Looking at a running job when the API is down, refuses the key, or has lost the job; and being told to
// look now. Time-skipping server + scripted API (see scripted-activities.ts: the job is a fake whose
// counters follow the workflow clock); the workflow, timers, signals and queries are real.
import type { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { BatchPredictionInput, BatchProgress } from '../../src/workflows/definitions';
import { type ScriptedOptions, scriptedApi, scriptedInput } from './scripted-activities';
import { runScripted } from './scripted-run';
import { useTimeSkipping } from './time-skipping-env';

const HOUR = 3_600_000;
const suite = useTimeSkipping();

async function run(
  options: Omit<ScriptedOptions, 'client'>,
  drive?: (handle: WorkflowHandle) => Promise<void>,
  input: BatchPredictionInput = scriptedInput(),
) {
  const api = scriptedApi({ ...options, client: suite.env.client });
  return { ...(await runScripted(suite, api, input, drive)), api };
}

test('a 6-hour 503 outage in the middle of a job is waited out, shown in progress, and the run completes', async () => {
  const seen: BatchProgress[] = [];
  const { result, error, api, stats } = await run(
    {
      itemCount: 1000,
      jobDurationMs: 8 * HOUR,
      getJobFails: { fromMs: HOUR, untilMs: 7 * HOUR, type: 'ApiUnavailable' },
    },
    async (handle) => {
      // Into the outage, as an operator would look.
      await suite.env.sleep(4 * HOUR);
      seen.push(await handle.query<BatchProgress>('progress'));
    },
  );
  expect(error).toBeUndefined();
  expect(result).toMatchObject({ outcome: 'completed', itemCount: 1000 });
  expect(result!.job!.items.delivered).toBe(1000);
  expect(seen[0].phase).toBe('waiting-for-job');
  expect(seen[0].lastError).toMatchObject({ type: 'ApiUnavailable', message: expect.stringMatching(/HTTP 503/) });
  expect(seen[0].lastError!.count).toBeGreaterThan(0);
  // Backing off during the outage: a few attempts per look, the looks minutes apart.
  expect(api.calls.getJobFailed).toBeLessThan(3 * 40);
  expect(stats.billableActions).toBeLessThan(250);
}, 120_000);

test('a 401 while waiting is shown the same way; a rotated key (the API answering again) is enough', async () => {
  const { result, error, api } = await run({
    itemCount: 100,
    jobDurationMs: 2 * HOUR,
    getJobFails: { fromMs: 10 * 60_000, untilMs: 3 * HOUR, type: 'ApiUnauthorized', nonRetryable: true },
  });
  expect(error).toBeUndefined();
  expect(result!.outcome).toBe('completed');
  // A non-retryable answer is not retried by the activity: one attempt per look.
  expect(api.calls.getJobFailed).toBeGreaterThan(0);
});

test('a job that no longer exists ends the run with JobNotFound', async () => {
  const { error } = await run({
    itemCount: 100,
    jobDurationMs: 2 * HOUR,
    getJobFails: { fromMs: 0, untilMs: 10 * HOUR, type: 'ApiNotFound', nonRetryable: true },
  });
  const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('JobNotFound');
  expect(cause.message).toMatch(/job job_1 no longer exists/);
});

test('a checkNow signal makes a run that sleeps for an hour look at once', async () => {
  const { result, stats } = await run({ itemCount: 100, jobDurationMs: 20 * HOUR }, async (handle) => {
    await suite.env.sleep(10 * HOUR);
    let before = await handle.query<BatchProgress>('progress');
    // Where the next planned look is minutes away (not one about to happen anyway), so only the signal can explain a look.
    const untilNextLook = async () => Date.parse(before.nextPollAt!) - (await suite.env.currentTimeMs());
    for (let tries = 0; tries < 5 && (await untilNextLook()) < 5 * 60_000; tries++) {
      await suite.env.sleep(10 * 60_000);
      before = await handle.query<BatchProgress>('progress');
    }
    expect(await untilNextLook()).toBeGreaterThan(5 * 60_000);
    await handle.signal('checkNow', { from: 'test' });
    // No time passes on the server until the run has looked.
    let after = before;
    for (let i = 0; i < 200 && after.polls === before.polls; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await handle.query<BatchProgress>('progress');
    }
    expect(after.polls).toBe(before.polls + 1);
  });
  expect(result!.outcome).toBe('completed');
  expect(stats.signals).toBe(1);
});

// The schedule rules src/schedules owns (the CLI only parses its flags into them): no server needed.
import { resolve } from 'node:path';
import type { Client, ScheduleOptions } from '@temporalio/client';
import { BatchPredictionInputSchema } from '../../src/run-client';
import {
  BatchScheduleError,
  type BatchScheduleOptions,
  checkBatchSchedule,
  createBatchSchedule,
  OVERLAP_POLICIES,
  overlapPolicyOf,
  withJobChanges,
} from '../../src/schedules';
import type { BatchPredictionInput } from '../../src/workflows/definitions';

const current: BatchPredictionInput = {
  dataset: { ndjsonPath: '/data/items.ndjson' },
  job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'], name: 'nightly' },
};

describe('withJobChanges', () => {
  test('nothing mentioned: the input stays', () => {
    expect(withJobChanges(current, {})).toEqual(current);
  });

  test('a new dataset: a URL as given, a path made absolute', () => {
    expect(withJobChanges(current, { dataset: 'https://example.com/a.ndjson' }).dataset).toEqual({
      ndjsonUrl: 'https://example.com/a.ndjson',
    });
    expect(withJobChanges(current, { dataset: 'b.ndjson' }).dataset).toEqual({ ndjsonPath: resolve('b.ndjson') });
  });

  test('switching the model clears the other one; name and webhooks replace', () => {
    expect(withJobChanges(current, { artifactId: 'artifact_1', name: 'n2', webhookIds: ['w2'] }).job).toEqual({
      deploymentId: undefined,
      artifactId: 'artifact_1',
      webhookIds: ['w2'],
      name: 'n2',
    });
  });
});

describe('overlap policies', () => {
  test('as people type them', () => {
    expect(overlapPolicyOf('buffer-one')).toBe('BUFFER_ONE');
    expect(overlapPolicyOf('Terminate_Other')).toBe('TERMINATE_OTHER');
    expect(() => overlapPolicyOf('sometimes')).toThrow(BatchScheduleError);
    expect(OVERLAP_POLICIES).toEqual([
      'SKIP',
      'BUFFER_ONE',
      'BUFFER_ALL',
      'CANCEL_OTHER',
      'TERMINATE_OTHER',
      'ALLOW_ALL',
    ]);
  });
});

describe('checkBatchSchedule', () => {
  const options: BatchScheduleOptions = { scheduleId: 'nightly', every: '1h', input: current };

  test('a valid schedule passes without a server', () => {
    expect(() => checkBatchSchedule(options)).not.toThrow();
  });

  test('checked before connecting, then created: the runs’ input is parsed once', async () => {
    const safeParse = jest.spyOn(BatchPredictionInputSchema, 'safeParse');
    const created: ScheduleOptions[] = [];
    const client = { schedule: { create: async (o: ScheduleOptions) => created.push(o) } } as unknown as Client;
    try {
      await createBatchSchedule(client, checkBatchSchedule(options));
      expect(safeParse).toHaveBeenCalledTimes(1);
      expect(created[0].action).toMatchObject({ args: [expect.objectContaining({ allowEmptySource: true })] });
      // An input not checked here (a caller's own) is still checked.
      await createBatchSchedule(client, options);
      expect(safeParse).toHaveBeenCalledTimes(2);
    } finally {
      safeParse.mockRestore();
    }
  });

  test.each([
    [{ cron: '0 2 * * *' }, 'give exactly one of cron and every'],
    [{ every: 'soon' as never }, "every must be a duration such as 90s, 30m, 6h or 1d, got 'soon'"],
    [{ overlap: 'SOMETIMES' as never }, /^overlap must be one of SKIP/],
    [{ input: { ...current, dataset: { datasetId: 'dataset_1' } } }, /needs a source read again at each run/],
    [
      { input: { ...current, job: { ...current.job, webhookIds: [] } } },
      /job\.webhookIds: the API needs at least one webhook/,
    ],
  ])('%j is refused', (change: Partial<BatchScheduleOptions>, message) => {
    expect(() => checkBatchSchedule({ ...options, ...change })).toThrow(message);
  });
});

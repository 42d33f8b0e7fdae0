// Schedules on the real Temporal dev server (the time-skipping server has no Schedules): the helpers and the CLI.
import { ScheduleNotFoundError } from '@temporalio/client';
import {
  BatchScheduleError,
  createBatchSchedule,
  deleteBatchSchedule,
  describeBatchSchedule,
  listBatchSchedules,
  pauseBatchSchedule,
  unpauseBatchSchedule,
  updateBatchSchedule,
} from '../../src/schedules';
import type { BatchPredictionInput } from '../../src/workflows/definitions';
import { cleanEnv, runCli } from '../cli/run-cli';
import { eventually, useScheduleServer } from './helpers';

const env = useScheduleServer();

const input = (ndjsonPath = '/data/items.ndjson'): BatchPredictionInput => ({
  dataset: { ndjsonPath },
  job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'], name: 'nightly' },
});

describe('schedule lifecycle', () => {
  test('create, list (eventually), describe, pause/unpause, update, delete', async () => {
    const { client } = env();
    await createBatchSchedule(client, {
      scheduleId: 'nightly',
      cron: '0 2 * * *',
      timeZone: 'Europe/Paris',
      jitter: '5m',
      catchupWindow: '10m',
      input: input(),
    });

    const listed = await eventually('nightly in the schedule list', async () =>
      (await listBatchSchedules(client)).find((summary) => summary.scheduleId === 'nightly'),
    );
    expect(listed).toMatchObject({ paused: false, workflowType: 'batchPrediction' });

    const described = await describeBatchSchedule(client, 'nightly');
    expect(described.timing).toEqual({ cron: '0 2 * * *', timeZone: 'Europe/Paris' });
    expect(described.policies).toEqual({ overlap: 'SKIP', catchupWindowMs: 600_000, pauseOnFailure: false });
    expect(described.jitterMs).toBe(300_000);
    expect(described.taskQueue).toBe('datature-batch');
    expect(described.input).toEqual({ ...input(), allowEmptySource: true });
    // Every run shows its source and model in the Web UI; the schedule's description says them too.
    expect(described.shows).toEqual({
      dataset: '/data/items.ndjson',
      model: 'deployment deploy_1',
      summary: 'batch prediction: /data/items.ndjson → deployment deploy_1',
    });
    expect(described.recentRuns).toEqual([]);
    expect(described.nextRunTimes.length).toBeGreaterThan(0);
    // 02:00 in Paris is 00:00 or 01:00 UTC, give or take the 5-minute jitter.
    for (const next of described.nextRunTimes) {
      expect(next.getTime()).toBeGreaterThan(Date.now());
      expect([0, 1]).toContain(next.getUTCHours());
      expect(next.getUTCMinutes()).toBeLessThan(5);
    }

    await pauseBatchSchedule(client, 'nightly', 'maintenance');
    expect(await describeBatchSchedule(client, 'nightly')).toMatchObject({ paused: true, note: 'maintenance' });
    await unpauseBatchSchedule(client, 'nightly', 'back');
    expect(await describeBatchSchedule(client, 'nightly')).toMatchObject({ paused: false, note: 'back' });

    await updateBatchSchedule(client, 'nightly', {
      every: '6h',
      overlap: 'BUFFER_ONE',
      pauseOnFailure: true,
      input: (current) => ({ ...current, dataset: { ndjsonUrl: 'http://127.0.0.1:1/items.ndjson' } }),
    });
    const updated = await describeBatchSchedule(client, 'nightly');
    expect(updated.timing).toEqual({ every: '6h', timeZone: 'Europe/Paris' });
    expect(updated.policies).toEqual({ overlap: 'BUFFER_ONE', catchupWindowMs: 600_000, pauseOnFailure: true });
    expect(updated.jitterMs).toBe(300_000);
    expect(updated.input.dataset).toEqual({ ndjsonUrl: 'http://127.0.0.1:1/items.ndjson' });
    expect(updated.shows).toMatchObject({
      dataset: 'http://127.0.0.1:1/items.ndjson',
      summary: 'batch prediction: http://127.0.0.1:1/items.ndjson → deployment deploy_1',
    });
    expect(updated.input.job).toEqual(input().job);
    const [first, second] = updated.nextRunTimes;
    // Six hours apart, each shifted by up to the 5 minutes of jitter.
    expect(Math.abs(second.getTime() - first.getTime() - 6 * 3_600_000)).toBeLessThanOrEqual(300_000);

    await deleteBatchSchedule(client, 'nightly');
    await expect(describeBatchSchedule(client, 'nightly')).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await eventually('nightly gone from the list', async () =>
      (await listBatchSchedules(client)).some((summary) => summary.scheduleId === 'nightly') ? undefined : true,
    );
  });

  test('a second schedule with the same id is refused', async () => {
    await createBatchSchedule(env().client, { scheduleId: 'twice', every: '1h', input: input() });
    await expect(
      createBatchSchedule(env().client, { scheduleId: 'twice', every: '1h', input: input() }),
    ).rejects.toThrow(/already exists/);
    await deleteBatchSchedule(env().client, 'twice');
  });

  test.each([
    ['both cron and every', { cron: '0 2 * * *', every: '1h' }, /exactly one of cron and every/],
    ['neither cron nor every', {}, /exactly one of cron and every/],
    ['a six-field cron', { cron: '0 0 2 * * *' }, /five fields/],
    ['an unparsable interval', { every: 'often' }, /every must be a duration/],
    ['an unknown overlap policy', { every: '1h', overlap: 'SOMETIMES' }, /overlap must be one of/],
    [
      'a fixed item list (never re-read)',
      { every: '1h', input: { ...input(), dataset: { items: [{ kind: 'Image', url: 'http://x/a.png' }] } } },
      /re-read|read again/,
    ],
    [
      'both a deployment and an artifact',
      { every: '1h', input: { ...input(), job: { deploymentId: 'd', artifactId: 'a', webhookIds: [] } } },
      /exactly one of deploymentId, deploymentIds or artifactId/,
    ],
  ])('refuses %s before reaching the server', async (_name, options, message) => {
    const attempt = createBatchSchedule(env().client, { scheduleId: 'invalid', input: input(), ...options } as never);
    await expect(attempt).rejects.toBeInstanceOf(BatchScheduleError);
    await expect(attempt).rejects.toThrow(message);
    await expect(describeBatchSchedule(env().client, 'invalid')).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});

describe('the schedule CLI', () => {
  const cli = (...args: string[]) => runCli(args, cleanEnv({ TEMPORAL_ADDRESS: env().address }));

  test('create, describe --json, pause, list --json, delete; usage mistakes exit 2', async () => {
    const created = await cli(
      'schedule',
      'create',
      'cli-nightly',
      '/data/items.ndjson',
      '--cron',
      '0 2 * * *',
      '--deployment',
      'deploy_1',
      '--webhook',
      'webhook_1',
      '--overlap',
      'buffer-one',
      '--jitter',
      '1m',
      '--catchup-window',
      '30m',
      '--pause-on-failure',
      '--timezone',
      'Asia/Singapore',
      '--name',
      'nightly',
    );
    expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining('created schedule cli-nightly') });

    const described = await cli('--json', 'schedule', 'describe', 'cli-nightly');
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({
      scheduleId: 'cli-nightly',
      timing: { cron: '0 2 * * *', timeZone: 'Asia/Singapore' },
      jitterMs: 60_000,
      policies: { overlap: 'BUFFER_ONE', catchupWindowMs: 1_800_000, pauseOnFailure: true },
      input: {
        dataset: { ndjsonPath: '/data/items.ndjson' },
        job: { deploymentId: 'deploy_1', webhookIds: ['webhook_1'], name: 'nightly' },
        allowEmptySource: true,
      },
    });

    expect((await cli('schedule', 'pause', 'cli-nightly', '--note', 'on hold')).code).toBe(0);
    const listed = await eventually(
      'cli-nightly listed as paused',
      async () => {
        const result = await cli('--json', 'schedule', 'list');
        const entry = (JSON.parse(result.stdout) as { scheduleId: string; paused: boolean }[]).find(
          (summary) => summary.scheduleId === 'cli-nightly',
        );
        return entry?.paused ? entry : undefined;
      },
      30_000,
    );
    expect(listed.paused).toBe(true);

    const twoTimings = await cli(
      'schedule',
      'create',
      'x',
      'a.ndjson',
      '--cron',
      '0 2 * * *',
      '--every',
      '1h',
      '--deployment',
      'd',
    );
    expect(twoTimings.code).toBe(2);
    expect(twoTimings.stderr).toContain('exactly one of cron and every');
    const badInterval = await cli('schedule', 'update', 'cli-nightly', '--every', 'sometimes');
    expect(badInterval.code).toBe(2);

    expect((await cli('schedule', 'delete', 'cli-nightly')).code).toBe(0);
    const gone = await cli('schedule', 'describe', 'cli-nightly');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/not found/);
  });
});

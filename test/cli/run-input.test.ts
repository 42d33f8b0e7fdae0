// The dataset argument of `run` / `schedule`: one decision of "is it a URL?", one zod check of the input
// on its way from the command line to the workflow (no servers: the Temporal client is a stand-in).
import { resolve } from 'node:path';
import { checkRunRequest, startRun } from '../../src/cli/start-run';
import type { TemporalSession } from '../../src/cli/temporal-client';
import { BatchPredictionInputSchema, startBatchPrediction } from '../../src/run-client';
import { datasetArgumentSource, isDatasetUrl } from '../../src/run-client/dataset-argument';

describe('the dataset argument', () => {
  test.each([
    ['https://example.com/items.ndjson', true],
    ['http://127.0.0.1:8080/items.ndjson', true],
    ['HTTPS://EXAMPLE.COM/items.ndjson', true],
    ['http:items.ndjson', false], // a file named so, not a URL (one of the old regexes said URL)
    ['items.ndjson', false],
    ['/data/https://x.ndjson', false],
    ['ftp://example.com/items.ndjson', false],
  ])('%s is a URL: %s', (argument, url) => {
    expect(isDatasetUrl(argument)).toBe(url);
  });

  test('a URL is kept as given, a path is made absolute', () => {
    expect(datasetArgumentSource('https://example.com/a.ndjson')).toEqual({
      ndjsonUrl: 'https://example.com/a.ndjson',
    });
    expect(datasetArgumentSource('data/items.ndjson')).toEqual({ ndjsonPath: resolve('data/items.ndjson') });
    expect(datasetArgumentSource('/abs/items.ndjson')).toEqual({ ndjsonPath: '/abs/items.ndjson' });
  });
});

describe('one check of the run input', () => {
  const request = {
    dataset: 'items.ndjson',
    deploymentId: 'deploy_1',
    webhookIds: ['webhook_1'],
    startAt: '2099-01-01T00:00:00.000Z',
  };

  function fakeSession() {
    const started: unknown[] = [];
    const client = {
      workflow: {
        start: async (_type: string, options: { args: unknown[]; workflowId: string }) => {
          started.push(options.args[0]);
          return { workflowId: options.workflowId };
        },
      },
    };
    const session = { client, config: { taskQueue: 'q' }, close: async () => {} } as unknown as TemporalSession;
    return { session, started };
  }

  afterEach(() => jest.restoreAllMocks());

  test('run checks its input once with zod, before connecting; the start takes it as checked', async () => {
    const safeParse = jest.spyOn(BatchPredictionInputSchema, 'safeParse');
    const { session, started } = fakeSession();
    const input = checkRunRequest(request);
    const handle = await startRun(session, input, 'wf-1');
    expect(safeParse).toHaveBeenCalledTimes(1);
    expect(handle.workflowId).toBe('wf-1');
    expect(started).toEqual([
      expect.objectContaining({
        dataset: { ndjsonPath: resolve('items.ndjson') },
        job: expect.objectContaining({ startAtTime: '2099-01-01T00:00:00.000Z' }),
      }),
    ]);
  });

  test('a caller of startBatchPrediction with an unchecked input still gets it checked', async () => {
    const safeParse = jest.spyOn(BatchPredictionInputSchema, 'safeParse');
    const { session } = fakeSession();
    const unchecked = { dataset: { ndjsonPath: '/a.ndjson' }, job: { webhookIds: [] } };
    await expect(startBatchPrediction(session.client, unchecked as never)).rejects.toThrow(/webhook/);
    // A copy of a checked input is not the checked input: checked again.
    const copy = { ...checkRunRequest(request) };
    await startBatchPrediction(session.client, copy);
    expect(safeParse).toHaveBeenCalledTimes(3);
  });
});

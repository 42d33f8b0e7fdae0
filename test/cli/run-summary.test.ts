// The finished run as a person reads it: with retry rounds, a line per round and where each item ended.
import { formatRunResult } from '../../src/cli/run-summary';
import type { BatchPredictionResult } from '../../src/workflows/definitions';

const items = (delivered: number, failedGather: number) => ({
  gathered: 1000 - failedGather,
  failedGather,
  preprocessed: 1000 - failedGather,
  failedProcess: 0,
  predicted: 1000 - failedGather,
  failedPredict: 0,
  delivered,
  failedDeliver: failedGather,
});

test('a run with retry rounds prints each round and the failed items file to run again', () => {
  const result: BatchPredictionResult = {
    outcome: 'completed',
    datasetId: 'dataset_1',
    jobId: 'job_1',
    itemCount: 1000,
    job: { overview: 'Reached', message: 'Finished', items: items(970, 30) },
    timings: {},
    polls: 4,
    runs: 1,
    rounds: [
      {
        round: 1,
        jobId: 'job_1',
        datasetId: 'dataset_1',
        itemsIn: 1000,
        delivered: 970,
        failed: { gather: 30, process: 0, predict: 0, deliver: 0 },
        retried: 30,
      },
      {
        round: 2,
        jobId: 'job_2',
        datasetId: 'dataset_2',
        itemsIn: 30,
        delivered: 0,
        failed: { gather: 30, process: 0, predict: 0, deliver: 0 },
        retried: 0,
      },
    ],
    items: {
      delivered: 970,
      failed: 30,
      failedFile: '/logs/run.failed.ndjson',
      reasonsFile: '/logs/run.failed.reasons.ndjson',
    },
  };
  const text = formatRunResult('run', result, 'http://ui');
  expect(text).toContain(
    'items:    gathered 970, predicted 970, delivered 970 (failed: gather 30, process 0, predict 0, deliver 0)',
  );
  expect(text).toContain(
    'round 1:  job job_1: 1000 items in, 970 delivered, failed gather 30, process 0, predict 0, deliver 0; 30 sent again',
  );
  expect(text).toContain('round 2:  job job_2: 30 items in, 0 delivered');
  expect(text).toMatch(/outcome: +970 delivered, 30 failed in 2 round\(s\): \/logs\/run\.failed\.ndjson \(re-run it/);
});

test('a run without failed items prints no rounds', () => {
  const text = formatRunResult(
    'run',
    {
      outcome: 'completed',
      itemCount: 5,
      job: { overview: 'Reached', message: '', items: items(1000, 0) },
      timings: {},
      polls: 1,
      runs: 1,
    },
    'http://ui',
  );
  expect(text).not.toMatch(/round|outcome/);
});

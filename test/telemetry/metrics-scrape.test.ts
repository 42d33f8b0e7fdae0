// A worker process with DATATURE_BATCH_METRICS_ADDRESS runs a real pipeline (dev server + emulator over
// loopback); its one Prometheus endpoint then holds the SDK's worker metrics and the pipeline's, and every
// metric the shipped Grafana dashboard queries.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { findFreePort } from '../../src/dev/free-port';
import { startBatchPrediction } from '../../src/run-client';
import { metricNames } from '../../src/telemetry';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess } from '../e2e/harness';
import { dashboardMetricNames, parseScrape, type Sample, sampleValue } from './scrape';

const taskQueue = 'telemetry-metrics';
let stack: E2eStack;
let worker: ChildProcess;
let metricsUrl: string;

beforeAll(async () => {
  stack = await startE2eStack();
  const port = await findFreePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawnWorkerProcess(stack, taskQueue, { DATATURE_BATCH_METRICS_ADDRESS: `127.0.0.1:${port}` });
}, 120_000);

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await stack?.close();
});

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const response = await request(metricsUrl);
  const text = await response.body.text();
  expect(response.statusCode).toBe(200);
  return { text, samples: parseScrape(text) };
}

test('a finished run shows in the scrape: runs, phases, the eight item counters, API calls, polls, bytes, logs', async () => {
  // Slow gathers and some failed predictions: polls see the counters part-way, and every stage has both outcomes.
  await stack.setFaults({ gather: { latencyMs: 400 }, predict: { failRate: 0.25 } });
  const source = stack.writeDataset('items.ndjson', 80);
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: source },
      job: { deploymentId: 'deploy_00000000-0000-4000-8000-000000000001', webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1_000, maxIntervalMs: 2_000 },
      logs: { collect: true },
    },
    { taskQueue, workflowId: 'telemetry-metrics-run' },
  );
  const result = await handle.result();
  const { text, samples } = await scrape();
  const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);

  expect(value(`${metricNames.RUNS_STARTED}_total`)).toBe(1);
  expect(value(`${metricNames.RUNS_ENDED}_total`, { outcome: 'completed' })).toBe(1);
  const items = result.job!.items;
  expect(result.polls).toBeGreaterThan(1);
  expect(items.failedPredict).toBeGreaterThan(0);
  const counted = Object.fromEntries(
    samples
      .filter((sample) => sample.name === `${metricNames.ITEMS}_total`)
      .map((sample) => [`${sample.labels.stage}/${sample.labels.outcome}`, sample.value]),
  );
  // Each poll adds only what moved since the last: the sums end at the job's own counters.
  expect(counted).toEqual(
    Object.fromEntries(
      Object.entries({
        'gather/ok': items.gathered,
        'gather/failed': items.failedGather,
        'process/ok': items.preprocessed,
        'process/failed': items.failedProcess,
        'predict/ok': items.predicted,
        'predict/failed': items.failedPredict,
        'deliver/ok': items.delivered,
        'deliver/failed': items.failedDeliver,
      }).filter(([, count]) => count > 0),
    ),
  );
  expect(value(`${metricNames.POLLS}_total`, { phase: 'waiting-for-job' })).toBe(result.polls);
  expect(value(`${metricNames.LOG_ENTRIES}_total`)).toBe(result.logs!.entries);
  expect(value(`${metricNames.BYTES_UPLOADED}_total`)).toBe(statSync(source).size);
  for (const phase of [
    'validating',
    'uploading',
    'waiting-for-dataset',
    'creating-job',
    'waiting-for-job',
    'collecting-logs',
  ]) {
    expect(value(`${metricNames.PHASE_DURATION}_count`, { phase })).toBe(1);
  }
  expect(value(`${metricNames.API_REQUESTS}_total`, { route: 'GET /projects/:id/batch/jobs/:id', status: '200' })).toBe(
    result.polls,
  );
  expect(value(`${metricNames.API_REQUESTS}_total`, { route: 'PUT <signed upload URL>', status: '200' })).toBe(1);
  expect(value(`${metricNames.API_REQUEST_DURATION}_count`, { route: 'POST /projects/:id/batch/jobs' })).toBe(1);
  // The SDK's own worker metrics share the endpoint.
  expect(value('temporal_workflow_completed_total')).toBeGreaterThanOrEqual(1);

  // No secret, id or signed-URL query in any label.
  expect(text).not.toContain(stack.emulator.secretKey);
  expect(text).not.toContain(stack.emulator.projectId);
  expect(text).not.toContain(result.jobId!);
  expect(text).not.toMatch(/signature|expires=/);

  // Every metric the dashboard queries is in this scrape.
  const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8'));
  const scraped = new Set(samples.map((sample) => sample.name));
  const queried = dashboardMetricNames(dashboard);
  expect(queried.length).toBeGreaterThan(10);
  expect(queried.filter((name) => !scraped.has(name))).toEqual([]);
});

test('a run with a retry round counts the items of both jobs (each round counts from its own zero)', async () => {
  const itemCounts = async () =>
    Object.fromEntries(
      (await scrape()).samples
        .filter((sample) => sample.name === `${metricNames.ITEMS}_total`)
        .map((sample) => [`${sample.labels.stage}/${sample.labels.outcome}`, sample.value]),
    );
  const before = await itemCounts();
  // A fifth of the items fail their first gather: round 2 has fewer items than round 1 had gathered.
  await stack.setFaults({ flakyItems: { rate: 0.2, stages: ['gather'], seed: 9 } });
  const handle = await startBatchPrediction(
    stack.env.client,
    {
      dataset: { ndjsonPath: stack.writeDataset('rounds.ndjson', 60) },
      job: { deploymentId: 'deploy_00000000-0000-4000-8000-000000000001', webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1_000, maxIntervalMs: 2_000 },
      retryFailedItems: { delayMs: 0 },
    },
    { taskQueue, workflowId: 'telemetry-metrics-rounds' },
  );
  const result = await handle.result();
  await stack.setFaults({});
  expect(result.rounds).toHaveLength(2);
  const after = await itemCounts();
  const jobs = await Promise.all(result.rounds!.map((round) => stack.datatureApi.jobs.get(round.jobId)));
  const sum = (field: 'gathered' | 'failedGather' | 'delivered') =>
    jobs.reduce((total, job) => total + job.status.items[field], 0);
  const moved = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  expect(moved('gather/ok')).toBe(sum('gathered'));
  expect(moved('gather/failed')).toBe(sum('failedGather'));
  expect(moved('deliver/ok')).toBe(sum('delivered'));
  expect(sum('delivered')).toBe(60);
});

// What the worker metrics cost. Real Temporal dev server + emulator (in this process) + worker processes
// spawned like production ones; the worker's CPU time is read from /proc (user + system, all its threads).
//  1. A 10,000-item pipeline (validate, upload, job, polls, 10,000 log entries) with and without
//     DATATURE_BATCH_METRICS_ADDRESS, alternating, `rounds` times each: worker CPU seconds per run.
//  2. 200 finished runs on the metrics worker, then the time one scrape of /metrics takes.
//  3. (--micro, its own process) the cost of one instrumented operation: a core-meter counter add and
//     histogram record, and one Datature HTTP call with vs without the undici hooks.
// Usage: npx tsx bench/telemetry-overhead.ts [items=10000] [rounds=3] [runs=200]   (Linux: reads /proc)
//        npx tsx bench/telemetry-overhead.ts --micro
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { findFreePort } from '../src/dev/free-port';
import { DEV_DEPLOYMENT_ID } from '../src/emulator';
import { startBatchPrediction } from '../src/run-client';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess } from '../test/e2e/harness';

const [items = 10_000, rounds = 3, runs = 200] = process.argv
  .slice(2)
  .filter((arg) => /^\d+$/.test(arg))
  .map(Number);
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}

async function waitForPoller(stack: E2eStack, taskQueue: string): Promise<void> {
  for (;;) {
    const described = await stack.env.client.workflowService.describeTaskQueue({
      namespace: stack.env.namespace ?? 'default',
      taskQueue: { name: taskQueue },
    });
    if ((described.pollers?.length ?? 0) > 0) return;
    await new Promise((done) => setTimeout(done, 200));
  }
}

async function startWorker(stack: E2eStack, taskQueue: string, metricsPort?: number): Promise<ChildProcess> {
  const child = spawnWorkerProcess(
    stack,
    taskQueue,
    metricsPort ? { DATATURE_BATCH_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` } : {},
  );
  await waitForPoller(stack, taskQueue);
  return child;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const stack = await startE2eStack();
  // A webhook that only answers 204: the fsyncing test receiver would make 10,000 deliveries slow.
  const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise<void>((done) => sink.listen(0, '127.0.0.1', done));
  const webhookId = (
    await stack.datatureApi.webhooks.create({
      name: 'bench-sink',
      endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
      secret: 'YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC1iZW5jaC0xMg==',
    })
  ).id;
  const source = stack.writeDataset('bench.ndjson', items);
  const job = { deploymentId: DEV_DEPLOYMENT_ID, webhookIds: [webhookId] };
  const cpu: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const wall: Record<'off' | 'on', number[]> = { off: [], on: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of ['off', 'on'] as const) {
        const taskQueue = `bench-${variant}-${round}`;
        const metricsPort = await findFreePort();
        const worker = await startWorker(stack, taskQueue, variant === 'on' ? metricsPort : undefined);
        const before = cpuSeconds(worker.pid!);
        const startedAt = performance.now();
        const handle = await startBatchPrediction(
          stack.env.client,
          { dataset: { ndjsonPath: source }, job, polling: { minIntervalMs: 1_000 }, logs: { collect: true } },
          { taskQueue, workflowId: `bench-${variant}-${round}` },
        );
        const result = await handle.result();
        cpu[variant].push(cpuSeconds(worker.pid!) - before);
        if (variant === 'on') {
          const text = await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text();
          const calls = [...text.matchAll(/^datature_batch_api_requests_total\{[^}]*\} (\d+)/gm)];
          const apiCalls = calls.reduce((sum, match) => sum + Number(match[1]), 0);
          // Workflow-side metric operations: a poll counter and up to 8 item counters per poll, one phase
          // histogram per phase, run started/ended, log entries.
          const workflowOps = result.polls * 9 + Object.keys(result.timings).length + 3;
          console.error(`  API calls in the run: ${apiCalls}; workflow metric operations at most ${workflowOps}`);
        }
        wall[variant].push((performance.now() - startedAt) / 1000);
        if (result.logs?.entries !== items)
          throw new Error(`expected ${items} log entries, got ${result.logs?.entries}`);
        await stopProcess(worker);
        console.error(`round ${round + 1} metrics ${variant}: ${cpu[variant].at(-1)!.toFixed(2)} s CPU`);
      }
    }
    const overhead = (median(cpu.on) - median(cpu.off)) / median(cpu.off);
    console.log(
      `\n${items.toLocaleString('en')}-item run, worker process CPU (user+sys), ${rounds} rounds alternating`,
    );
    console.log('| metrics | CPU s per run (each round) | median CPU s | median wall s |');
    console.log('|---|---|---|---|');
    for (const variant of ['off', 'on'] as const) {
      console.log(
        `| ${variant} | ${cpu[variant].map((s) => s.toFixed(2)).join(', ')} | ${median(cpu[variant]).toFixed(2)} | ${median(wall[variant]).toFixed(1)} |`,
      );
    }
    console.log(`overhead of metrics: ${(overhead * 100).toFixed(1)} % (median on vs median off)`);

    // Scrape latency after `runs` finished runs.
    const port = await findFreePort();
    const worker = await startWorker(stack, 'bench-scrape', port);
    const small = stack.writeDataset('small.ndjson', 2);
    for (let started = 0; started < runs; started += 25) {
      const batch = Array.from({ length: Math.min(25, runs - started) }, (_, i) =>
        startBatchPrediction(
          stack.env.client,
          {
            dataset: { ndjsonPath: small },
            job: { ...job, webhookIds: [stack.webhookId] },
            polling: { minIntervalMs: 1_000 },
          },
          { taskQueue: 'bench-scrape', workflowId: `bench-scrape-${started + i}` },
        ).then((handle) => handle.result()),
      );
      await Promise.all(batch);
    }
    const url = `http://127.0.0.1:${port}/metrics`;
    const times: number[] = [];
    let size = 0;
    let ended = '';
    for (let i = 0; i < 21; i++) {
      const t0 = performance.now();
      const response = await request(url);
      const text = await response.body.text();
      times.push(performance.now() - t0);
      size = text.length;
      ended = /^datature_batch_runs_ended_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? '?';
    }
    await stopProcess(worker);
    console.log(`\nscrape of a worker with ${ended} finished runs (${(size / 1024).toFixed(0)} KiB, 21 scrapes)`);
    console.log('| median ms | p95 ms | max ms |');
    console.log('|---|---|---|');
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`| ${median(times).toFixed(1)} | ${sorted[19].toFixed(1)} | ${sorted[20].toFixed(1)} |`);
  } finally {
    sink.close();
    await stack.close();
  }
}

/** Per-operation cost, in a process of its own (the runtime with metrics must be installed first). */
async function micro() {
  const { installWorkerRuntime, instrumentDatatureHttp, stopHttpInstrumentation } =
    require('../src/telemetry') as typeof import('../src/telemetry');
  const { Runtime } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  installWorkerRuntime({ metricsAddress: `127.0.0.1:${await findFreePort()}` });
  const meter = Runtime.instance().metricMeter;
  const counter = meter.createCounter('bench_counter');
  const histogram = meter.createHistogram('bench_histogram', 'float');
  const cpuMicros = (fn: () => void, n: number) => {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  const n = 200_000;
  const add = cpuMicros(() => counter.add(1, { route: 'GET /projects/:id/batch/jobs/:id', status: '200' }), n);
  const record = cpuMicros(() => histogram.record(0.012, { route: 'GET /projects/:id/batch/jobs/:id' }), n);

  // HTTP calls with the API's header shape, to a loopback server; blocks alternate with and without hooks.
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/projects/proj_1/batch/jobs/batchjob_1`;
  const block = async (count: number) => {
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      await (await request(url, { headers: { 'secret-key': 'k', accept: 'application/json' } })).body.text();
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  await block(500); // warm-up
  const plain: number[] = [];
  const hooked: number[] = [];
  // A shared machine is noisy: many short alternating blocks; the minimum is the least disturbed.
  for (let round = 0; round < 20; round++) {
    stopHttpInstrumentation();
    plain.push(await block(300));
    instrumentDatatureHttp({ meter });
    hooked.push(await block(300));
  }
  stopHttpInstrumentation();
  server.close();
  console.log('| operation | CPU µs per operation |');
  console.log('|---|---|');
  console.log(`| core-meter counter add (2 labels) | ${add.toFixed(2)} |`);
  console.log(`| core-meter histogram record (1 label) | ${record.toFixed(2)} |`);
  const spread = (values: number[]) => `${Math.min(...values).toFixed(1)} (median ${median(values).toFixed(1)})`;
  console.log(`| loopback HTTP call, no hooks: min of 20 × 300 | ${spread(plain)} |`);
  console.log(`| loopback HTTP call, metrics hooks: min of 20 × 300 | ${spread(hooked)} |`);
  process.exit(0);
}

(process.argv.includes('--micro') ? micro() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});

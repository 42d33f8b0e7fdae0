// One trace from the client that starts a run, through the workflow and each activity, to every HTTP call
// to the Datature API: the real dev server and emulator, spans caught by the OTel SDK's in-memory exporter.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { startBatchPrediction } from '../../src/run-client';
import { clientTracingInterceptors, startTracing, type Tracing, UPLOAD_ROUTE } from '../../src/telemetry';
import { createWorker } from '../../src/worker';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess } from '../e2e/harness';

const taskQueue = 'telemetry-traces';
const exporter = new InMemorySpanExporter();
let stack: E2eStack;
let tracing: Tracing;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  stack = await startE2eStack();
  tracing = startTracing({ serviceName: 'trace-test', spanProcessor: new SimpleSpanProcessor(exporter) });
  worker = await createWorker({
    connection: stack.env.nativeConnection,
    namespace: stack.env.namespace,
    taskQueue,
    datature: { secretKey: stack.emulator.secretKey, projectId: stack.emulator.projectId, baseUrl: stack.emulator.url },
    logsDir: join(stack.dir, 'logs'),
    tracing,
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await tracing?.shutdown();
  await stack?.close();
});

test('client start -> workflow -> activities -> Datature HTTP calls, in one trace with no secret in it', async () => {
  const client = new Client({
    connection: stack.env.connection,
    namespace: stack.env.namespace,
    interceptors: clientTracingInterceptors(tracing),
  });
  const handle = await startBatchPrediction(
    client,
    {
      dataset: { ndjsonPath: stack.writeDataset('five.ndjson', 5) },
      job: { deploymentId: 'deploy_00000000-0000-4000-8000-000000000001', webhookIds: [stack.webhookId] },
      polling: { minIntervalMs: 1_000, maxIntervalMs: 2_000 },
      logs: { collect: true },
    },
    { taskQueue, workflowId: 'telemetry-trace-run' },
  );
  const result = await handle.result();
  // Workflow spans leave the sandbox through a sink: stop the worker so every one has been exported.
  worker.shutdown();
  await running;

  const spans = exporter.getFinishedSpans();
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const parentOf = (span: ReadableSpan) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
  const named = (name: string) => spans.filter((span) => span.name === name);
  const chain = (span: ReadableSpan): string[] => {
    const names: string[] = [];
    for (let s: ReadableSpan | undefined = span; s; s = parentOf(s)) names.unshift(s.name);
    return names;
  };

  const [root] = named('StartWorkflow:batchPrediction');
  expect(root).toBeDefined();
  expect(parentOf(root)).toBeUndefined();
  // Every span of the run is in the client's trace.
  expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([root.spanContext().traceId]));

  const polls = named('GET /projects/:id/batch/jobs/:id');
  expect(polls).toHaveLength(result.polls);
  for (const poll of polls) {
    expect(chain(poll)).toEqual([
      'StartWorkflow:batchPrediction',
      'RunWorkflow:batchPrediction',
      'StartActivity:getJob',
      'RunActivity:getJob',
      'GET /projects/:id/batch/jobs/:id',
    ]);
    expect(poll.attributes['http.response.status_code']).toBe(200);
  }
  expect(chain(named(UPLOAD_ROUTE)[0]).slice(-3)).toEqual([
    'StartActivity:uploadDataset',
    'RunActivity:uploadDataset',
    UPLOAD_ROUTE,
  ]);
  expect(chain(named('POST /projects/:id/batch/jobs')[0]).slice(-2)).toEqual([
    'RunActivity:createJob',
    'POST /projects/:id/batch/jobs',
  ]);
  expect(parentOf(named('GET /projects/:id/batch/jobs/:id/logs')[0])?.name).toBe('RunActivity:collectLogs');
  // Every HTTP span hangs under an activity.
  const httpSpans = spans.filter((span) => /^(GET|POST|PUT|PATCH|DELETE) /.test(span.name));
  expect(httpSpans.length).toBeGreaterThanOrEqual(result.polls + 5);
  for (const span of httpSpans) expect(parentOf(span)?.name).toMatch(/^RunActivity:/);

  const everything = JSON.stringify(
    spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })),
  );
  expect(everything).not.toContain(stack.emulator.secretKey);
  expect(everything).not.toContain(stack.emulator.projectId);
  expect(everything).not.toMatch(/signature=|expires=/);
});

/** A stand-in OTLP/HTTP collector: keeps every span of every JSON export it receives. */
async function startCollector(): Promise<{
  url: string;
  spans: { name: string; traceId: string }[];
  bodies: string[];
  server: Server;
}> {
  const spans: { name: string; traceId: string }[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      const parsed = JSON.parse(body) as {
        resourceSpans?: { scopeSpans?: { spans?: { name: string; traceId: string }[] }[] }[];
      };
      for (const resource of parsed.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, bodies, server };
}

test('a worker process given OTEL_EXPORTER_OTLP_ENDPOINT continues the trace and exports it over OTLP', async () => {
  const collector = await startCollector();
  let child: ChildProcess | undefined;
  try {
    child = spawnWorkerProcess(stack, 'telemetry-otlp', {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    exporter.reset();
    const client = new Client({
      connection: stack.env.connection,
      namespace: stack.env.namespace,
      interceptors: clientTracingInterceptors(tracing),
    });
    const handle = await startBatchPrediction(
      client,
      {
        dataset: { ndjsonPath: stack.writeDataset('three.ndjson', 3) },
        job: { deploymentId: 'deploy_00000000-0000-4000-8000-000000000001', webhookIds: [stack.webhookId] },
      },
      { taskQueue: 'telemetry-otlp', workflowId: 'telemetry-otlp-run' },
    );
    await handle.result();
    // Stopping the worker flushes its exporter.
    await stopProcess(child);
    const [root] = exporter.getFinishedSpans().filter((span) => span.name === 'StartWorkflow:batchPrediction');
    const traceId = root.spanContext().traceId;
    const names = new Set(collector.spans.filter((span) => span.traceId === traceId).map((span) => span.name));
    for (const name of [
      'RunWorkflow:batchPrediction',
      'RunActivity:getJob',
      'GET /projects/:id/batch/jobs/:id',
      UPLOAD_ROUTE,
    ]) {
      expect(names.has(name)).toBe(true);
    }
    const exported = collector.bodies.join('\n');
    expect(exported).not.toContain(stack.emulator.secretKey);
    expect(exported).not.toMatch(/signature=|expires=/);
  } finally {
    if (child) await stopProcess(child);
    await new Promise((done) => collector.server.close(done));
  }
});

// Request validation, request bodies and the client-side logic of the resources (waiting, log paging,
// list filtering), against a scripted loopback HTTP server.
import { Readable } from 'node:stream';
import {
  countingBytes,
  DatatureClient,
  DatatureConnectionError,
  DatatureResponseError,
  DatatureValidationError,
  DatatureWaitError,
  itemsAccountedFor,
  type JobCreateParams,
  type JobLogEntry,
  redactSignedUrl,
  toWireJob,
  uploadHeaders,
} from '../../src/datature-api';
import { JobSchema } from '../../src/datature-api/models';
import { datasetWire, jobWire, webhookWire } from './fixtures/seed-wire';
import { json, type LoopbackServer, type RecordedRequest, startLoopbackServer } from './helpers/loopback-server';

let server: LoopbackServer;
let datatureApi: DatatureClient;
beforeAll(async () => {
  server = await startLoopbackServer();
  datatureApi = new DatatureClient({ secretKey: 'k', projectId: 'proj_1', baseUrl: server.url, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.handle((_req, res) => json(res, 500, { message: 'unexpected request' }));
});

const bodyOf = (req: RecordedRequest) => JSON.parse(req.body.toString());
const HOUR = 60 * 60 * 1000;

describe('request validation happens before any request and names the field', () => {
  const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
  test.each<[string, () => Promise<unknown>, string]>([
    ['empty name', () => datatureApi.webhooks.create({ name: ' ', endpoint: 'https://e.test', secret }), 'name'],
    [
      'name of 121 chars',
      () => datatureApi.webhooks.create({ name: 'x'.repeat(121), endpoint: 'https://e.test', secret }),
      'name',
    ],
    ['ftp endpoint', () => datatureApi.webhooks.create({ name: 'w', endpoint: 'ftp://e.test', secret }), 'endpoint'],
    ['not a URL', () => datatureApi.webhooks.create({ name: 'w', endpoint: 'e.test/hook', secret }), 'endpoint'],
    [
      'empty secret',
      () => datatureApi.webhooks.create({ name: 'w', endpoint: 'https://e.test', secret: '' }),
      'secret',
    ],
    [
      '6 retries',
      () => datatureApi.webhooks.create({ name: 'w', endpoint: 'https://e.test', secret, retries: { maxRetries: 6 } }),
      'retries.maxRetries',
    ],
    [
      'retry delay over 60 s',
      () => datatureApi.webhooks.update('webhook_1', { retries: { maxRetries: 1, maxRetryDelay: 60_001 } }),
      'retries.maxRetryDelay',
    ],
    [
      'negative retry delay',
      () => datatureApi.webhooks.update('webhook_1', { retries: { maxRetryDelay: -1 } }),
      'retries.maxRetryDelay',
    ],
    ['empty webhook id', () => datatureApi.webhooks.get(''), 'webhookId'],
    ['dataset name', () => datatureApi.datasets.create({ name: '', source: [] }), 'name'],
    [
      'dataset size',
      () => datatureApi.datasets.createRecord({ name: 'd', sizeBytes: 0, crc32c: 'AAAAAA==' }),
      'sizeBytes',
    ],
    [
      'redacted upload URL',
      () => datatureApi.datasets.upload({ method: 'PUT', url: '', headers: [], expiresAtTime: 0 }, []),
      'uploadUrl.url',
    ],
    ...(
      [
        ['both deployment and artifact', { deploymentId: 'd', artifactId: 'a' }, 'deploymentId'],
        ['neither deployment nor artifact', {}, 'deploymentId'],
        ['no webhook', { deploymentId: 'd', webhookIds: [] }, 'webhookIds'],
        ['an empty webhook id', { deploymentId: 'd', webhookIds: ['w', ''] }, 'webhookIds[1]'],
        ['start in the past', { deploymentId: 'd', startAtTime: Date.now() - 2 * 60_000 }, 'startAtTime'],
        [
          'stop before start',
          { deploymentId: 'd', startAtTime: Date.now() + HOUR, stopAtTime: Date.now() + 1000 },
          'stopAtTime',
        ],
        ['stop in the past without start', { deploymentId: 'd', stopAtTime: Date.now() - 1000 }, 'stopAtTime'],
        ['template without artifact', { deploymentId: 'd', deploymentTemplate: { replicas: 1 } }, 'deploymentTemplate'],
        ['job name too long', { deploymentId: 'd', name: 'j'.repeat(121) }, 'name'],
      ] as const
    ).map(
      ([name, params, field]) =>
        [
          name,
          () =>
            datatureApi.jobs.create({
              name: 'job',
              datasetId: 'dataset_1',
              webhookIds: ['webhook_1'],
              ...(params as Partial<JobCreateParams>),
            }),
          field,
        ] as [string, () => Promise<unknown>, string],
    ),
    ['logs maxEntries over 1000', () => datatureApi.jobs.logs('job_1', { maxEntries: 1001 }), 'maxEntries'],
  ])('%s', async (_name, call, field) => {
    let error: unknown;
    try {
      await call();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DatatureValidationError);
    expect((error as DatatureValidationError).field).toBe(field);
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  test('a start within the 1 minute grace is accepted', async () => {
    server.handle((_req, res) => json(res, 200, jobWire));
    await datatureApi.jobs.create({
      name: 'job',
      datasetId: 'dataset_1',
      webhookIds: ['webhook_1'],
      deploymentId: 'd',
      startAtTime: Date.now() - 30_000,
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe('request bodies', () => {
  beforeEach(() => server.handle((_req, res) => json(res, 200, jobWire)));

  test('jobs.create with an existing deployment and two webhooks', async () => {
    await datatureApi.jobs.create({
      name: 'job',
      datasetId: 'dataset_1',
      webhookIds: ['webhook_1', 'webhook_2'],
      deploymentId: 'deploy_1',
      stopAtTime: Date.now() + HOUR,
    });
    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/projects/proj_1/batch/jobs');
    const body = bodyOf(req);
    expect(body).toEqual({
      name: 'job',
      spec: {
        stopAtTime: expect.any(Number),
        datasetId: 'dataset_1',
        deployment: { kind: 'ExistingDeployment', deploymentId: 'deploy_1' },
        resultDelivery: {
          destinations: [
            { kind: 'Webhook', webhookId: 'webhook_1' },
            { kind: 'Webhook', webhookId: 'webhook_2' },
          ],
        },
      },
    });
  });

  test('jobs.create with an artifact builds a NewEphemeralDeployment template', async () => {
    await datatureApi.jobs.create({
      name: 'job',
      datasetId: 'dataset_1',
      webhookIds: ['webhook_1'],
      artifactId: 'artifact_1',
      deploymentTemplate: { instanceId: 'instance_t4-standard-1g', replicas: 2, region: 'us' },
    });
    expect(bodyOf(server.requests[0]).spec.deployment).toEqual({
      kind: 'NewEphemeralDeployment',
      template: { artifactId: 'artifact_1', instanceId: 'instance_t4-standard-1g', replicas: 2, region: 'us' },
    });
  });

  test('jobs.cancel moves stopAtTime to now with a PATCH', async () => {
    const before = Date.now();
    await datatureApi.jobs.cancel('batchjob_1');
    const [req] = server.requests;
    expect(req.method).toBe('PATCH');
    expect(req.url).toBe('/projects/proj_1/batch/jobs/batchjob_1');
    const { spec } = bodyOf(req);
    expect(Object.keys(spec)).toEqual(['stopAtTime']);
    expect(spec.stopAtTime).toBeGreaterThanOrEqual(before);
    expect(spec.stopAtTime).toBeLessThanOrEqual(Date.now());
  });

  test('webhooks.create sends the SDK wire shape with default retries; ids are path-encoded', async () => {
    server.handle((req, res) =>
      json(
        res,
        200,
        req.url.endsWith(':test') ? { status: 'Ok', responseCode: 204, latencyMs: 1, attemptCount: 1 } : webhookWire,
      ),
    );
    await datatureApi.webhooks.create({ name: 'w', endpoint: 'https://e.test/', secret: 'c2VjcmV0' });
    expect(bodyOf(server.requests[0])).toEqual({
      name: 'w',
      spec: {
        endpoint: 'https://e.test/',
        secret: { contents: 'c2VjcmV0' },
        retries: { maxRetries: 3, maxBackoffMs: 15000 },
      },
    });
    await datatureApi.webhooks.test('webhook/../x');
    expect(server.requests[1].url).toBe('/projects/proj_1/batch/webhooks/webhook%2F..%2Fx:test');
    expect(server.requests[1].body.length).toBe(0);
  });

  test('query strings: page and limit; log filters', async () => {
    server.handle((req, res) =>
      req.url.includes('/logs')
        ? json(res, 200, { id: 'l', object: 'batch_job_log', projectId: 'proj_1', entries: [] })
        : json(res, 200, { data: [], nextPage: null, prevPage: null }),
    );
    await datatureApi.jobs.listPage({ page: 'abc=', limit: 5 });
    await datatureApi.jobs.logs('batchjob_1', { beforeTime: 10, afterTime: 5, minLevel: 'Error', maxEntries: 7 });
    expect(server.requests[0].url).toBe('/projects/proj_1/batch/jobs?page=abc%3D&limit=5');
    expect(server.requests[1].url).toBe(
      '/projects/proj_1/batch/jobs/batchjob_1/logs?beforeTime=10&afterTime=5&minLevel=Error&maxEntries=7',
    );
  });
});

describe('pagination', () => {
  test('list() follows nextPage until null, fetching lazily', async () => {
    const pages: Record<string, unknown> = {
      '': { data: [webhookWire], nextPage: 'p2', prevPage: null },
      p2: { data: [{ ...webhookWire, id: 'webhook_2' }], nextPage: 'p3', prevPage: 'p1' },
      p3: { data: [{ ...webhookWire, id: 'webhook_3' }], nextPage: null, prevPage: 'p2' },
    };
    server.handle((req, res) => json(res, 200, pages[new URL(req.url, server.url).searchParams.get('page') ?? '']));
    const iterator = datatureApi.webhooks.list({ limit: 1 });
    expect((await iterator.next()).value.id).toBe(webhookWire.id);
    expect(server.requests).toHaveLength(1);
    const rest = [];
    for await (const webhook of iterator) rest.push(webhook.id);
    expect(rest).toEqual(['webhook_2', 'webhook_3']);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/projects/proj_1/batch/webhooks?limit=1',
      '/projects/proj_1/batch/webhooks?page=p2&limit=1',
      '/projects/proj_1/batch/webhooks?page=p3&limit=1',
    ]);
  });

  test('a cursor handed back twice stops with an error instead of looping', async () => {
    server.handle((_req, res) => json(res, 200, { data: [webhookWire], nextPage: 'same', prevPage: null }));
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const webhook of datatureApi.webhooks.list()) seen.push(webhook);
      })(),
    ).rejects.toBeInstanceOf(DatatureResponseError);
    expect(seen).toHaveLength(2);
  });

  test('datasets.list drops expired datasets unless showExpired', async () => {
    const expired = { ...datasetWire, id: 'dataset_old', expiryTime: Date.now() - 1000 };
    const live = { ...datasetWire, id: 'dataset_new', expiryTime: Date.now() + HOUR };
    server.handle((_req, res) => json(res, 200, { data: [expired, live], nextPage: null, prevPage: null }));
    const ids = async (showExpired?: boolean) => {
      const all = [];
      for await (const d of datatureApi.datasets.list({ showExpired })) all.push(d.id);
      return all;
    };
    expect(await ids()).toEqual(['dataset_new']);
    expect(await ids(true)).toEqual(['dataset_old', 'dataset_new']);
  });
});

describe('waitUntilDone', () => {
  /** A job as on the wire; `items` replaces the counters (missing ones default to 0 when parsed). */
  const job = (status: Record<string, unknown>) => ({ ...jobWire, status: { ...jobWire.status, ...status } });

  function serveSequence(jobs: unknown[], itemCount = 50) {
    let i = 0;
    server.handle((req, res) => {
      if (req.url.includes('/datasets/')) {
        return json(res, 200, { ...datasetWire, status: { ...datasetWire.status, itemCount } });
      }
      json(res, 200, jobs[Math.min(i++, jobs.length - 1)]);
    });
  }

  test('job: done once Delivered + FailedDeliver reach itemCount, without Reached (the SDK test)', async () => {
    // A failed item also counts in FailedDeliver: the stage counters must not be added on top.
    const failures = { FailedGather: 3, FailedProcess: 2, FailedPredict: 1, FailedDeliver: 6 };
    serveSequence([
      job({ overview: 'Waiting', items: { Gathered: 50, Delivered: 10 } }),
      // 40 + 6 = 46 of 50: adding the 6 stage failures again would make 52 and end the wait here.
      job({ overview: 'Waiting', items: { Delivered: 40, ...failures } }),
      job({ overview: 'Waiting', items: { Delivered: 44, ...failures } }),
    ]);
    const done = await datatureApi.jobs.waitUntilDone(jobWire.id, { intervalMs: 10 });
    expect(done.status.items.delivered).toBe(44);
    expect(server.requests.filter((r) => r.url.includes('/jobs/'))).toHaveLength(3);
    expect(server.requests.filter((r) => r.url.includes('/datasets/'))).toHaveLength(1);
  });

  test('itemsAccountedFor is Delivered + FailedDeliver', () => {
    expect(itemsAccountedFor({ delivered: 40, failedDeliver: 6 })).toBe(46);
    const parsed = JobSchema.parse(
      job({ items: { Delivered: 40, FailedGather: 3, FailedProcess: 2, FailedPredict: 1, FailedDeliver: 6 } }),
    );
    expect(itemsAccountedFor(parsed.status.items)).toBe(46);
  });

  test('job: Reached ends the wait even when items are missing (cutoff or cancel)', async () => {
    serveSequence([job({ overview: 'Waiting' }), job({ overview: 'Reached', message: 'Finished' })]);
    expect((await datatureApi.jobs.waitUntilDone(jobWire.id, { intervalMs: 10 })).status.overview).toBe('Reached');
  });

  test('job: a deleted dataset leaves Reached as the only end, without failing the wait', async () => {
    let jobReads = 0;
    server.handle((req, res) => {
      if (req.url.includes('/datasets/')) return json(res, 404, { message: 'dataset not found' });
      jobReads++;
      json(res, 200, job({ overview: jobReads < 3 ? 'Waiting' : 'Reached', items: { Delivered: 50 } }));
    });
    expect((await datatureApi.jobs.waitUntilDone(jobWire.id, { intervalMs: 10 })).status.overview).toBe('Reached');
    expect(jobReads).toBe(3);
    expect(server.requests.filter((r) => r.url.includes('/datasets/'))).toHaveLength(1);
  });

  test('job: Failed throws DatatureWaitError with the reason', async () => {
    serveSequence([job({ overview: 'Failed', message: 'Failed', reason: 'deployment crashed' })]);
    await expect(datatureApi.jobs.waitUntilDone(jobWire.id, { intervalMs: 10 })).rejects.toThrow(
      new DatatureWaitError(`Error processing job ${jobWire.id}: deployment crashed`),
    );
  });

  test('job: timeoutMs throws DatatureWaitError', async () => {
    serveSequence([job({ overview: 'Waiting' })]);
    await expect(datatureApi.jobs.waitUntilDone(jobWire.id, { intervalMs: 20, timeoutMs: 100 })).rejects.toBeInstanceOf(
      DatatureWaitError,
    );
  });

  test('job: abort during the interval', async () => {
    serveSequence([job({ overview: 'Waiting' })]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('worker shutting down')), 50);
    await expect(
      datatureApi.jobs.waitUntilDone(jobWire.id, { intervalMs: 10_000, signal: controller.signal }),
    ).rejects.toThrow('worker shutting down');
  });

  test.each([
    ['FailedUpload', /Error uploading dataset .*: bad digest/],
    ['FailedProcessing', /Error processing dataset .*: bad digest/],
  ])('dataset: %s throws DatatureWaitError', async (overview, message) => {
    server.handle((_req, res) =>
      json(res, 200, { ...datasetWire, status: { ...datasetWire.status, overview, message: 'bad digest' } }),
    );
    await expect(datatureApi.datasets.waitUntilDone(datasetWire.id, { intervalMs: 10 })).rejects.toThrow(message);
  });
});

describe('allLogs', () => {
  /** 2500 entries, several sharing a createTime, served with an *inclusive* beforeTime, newest first. */
  const entries: JobLogEntry[] = Array.from({ length: 2500 }, (_, i) => ({
    kind: 'ItemPredicted',
    createTime: 1_000_000 + Math.floor(i / 3),
    id: `entry_${String(i).padStart(5, '0')}`,
    level: i % 10 === 0 ? 'Error' : 'Info',
    item: `https://a.test/${i}.jpg`,
    status: 'Delivered',
    timeMs: 1,
    reason: '',
  })).reverse();

  beforeEach(() =>
    server.handle((req, res) => {
      const query = new URL(req.url, server.url).searchParams;
      const before = query.has('beforeTime') ? Number(query.get('beforeTime')) : Number.POSITIVE_INFINITY;
      const max = Number(query.get('maxEntries') ?? 1000);
      const page = entries.filter((entry) => entry.createTime <= before).slice(0, max);
      json(res, 200, { id: 'batchjoblog_1', object: 'batch_job_log', projectId: 'proj_1', entries: page });
    }),
  );

  test('pages backward by the last createTime, de-duplicates the overlap, stops on a short page', async () => {
    const seen: string[] = [];
    for await (const entry of datatureApi.jobs.allLogs('batchjob_1')) seen.push(entry.id);
    expect(seen).toEqual(entries.map((entry) => entry.id));
    const befores = server.requests.map((r) => new URL(r.url, server.url).searchParams.get('beforeTime'));
    expect(befores[0]).toBeNull();
    expect(befores.slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/^\d+$/)]));
    expect(server.requests.every((r) => new URL(r.url, server.url).searchParams.get('maxEntries') === '1000')).toBe(
      true,
    );
  });

  test('maxEntries caps the total across pages', async () => {
    const seen: string[] = [];
    for await (const entry of datatureApi.jobs.allLogs('batchjob_1', { maxEntries: 1200 })) seen.push(entry.id);
    expect(seen).toEqual(entries.slice(0, 1200).map((entry) => entry.id));
  });

  test('more than a page in one millisecond on a server without beforeId: reported, skipped, no loop', async () => {
    // 1500 entries at createTime 5 then 10 older ones, on an exclusive server that ignores beforeId:
    // after the first page nothing documented reaches the other 500 entries of millisecond 5.
    const sameMs = entries.slice(0, 1500).map((entry) => ({ ...entry, createTime: 5 }));
    const older = entries.slice(1500, 1510).map((entry) => ({ ...entry, createTime: 4 }));
    const all = [...sameMs, ...older];
    server.handle((req, res) => {
      const query = new URL(req.url, server.url).searchParams;
      const before = query.has('beforeTime') ? Number(query.get('beforeTime')) : Number.POSITIVE_INFINITY;
      const page = all.filter((entry) => entry.createTime < before).slice(0, 1000);
      json(res, 200, { id: 'batchjoblog_1', object: 'batch_job_log', projectId: 'proj_1', entries: page });
    });
    const partial: number[] = [];
    const seen: string[] = [];
    for await (const entry of datatureApi.jobs.allLogs('batchjob_1', {
      onPartialMillisecond: (t) => partial.push(t),
    })) {
      seen.push(entry.id);
    }
    expect(seen).toEqual([...sameMs.slice(0, 1000), ...older].map((entry) => entry.id));
    expect(partial).toEqual([5]);
    const queries = server.requests.map((r) => Object.fromEntries(new URL(r.url, server.url).searchParams));
    expect(queries[1]).toMatchObject({ beforeTime: '6', beforeId: sameMs[999].id });
    expect(queries[2]).toMatchObject({ beforeTime: '5' });
    expect(queries[2].beforeId).toBeUndefined();
    expect(queries).toHaveLength(3);
  });

  test('a full page that brings nothing new ends the iteration instead of looping', async () => {
    // 1000 entries at one createTime on a server answering the same page whatever is asked.
    const same = entries.slice(0, 1000).map((entry) => ({ ...entry, createTime: 5 }));
    server.handle((_req, res) =>
      json(res, 200, { id: 'batchjoblog_1', object: 'batch_job_log', projectId: 'proj_1', entries: same }),
    );
    const seen: string[] = [];
    for await (const entry of datatureApi.jobs.allLogs('batchjob_1')) seen.push(entry.id);
    expect(seen).toHaveLength(1000);
    expect(server.requests).toHaveLength(3);
  });
});

describe('datasets.create upload', () => {
  const items = [
    { kind: 'Image' as const, url: 'https://a.test/1.jpg' },
    { kind: 'Image' as const, url: 'https://a.test/2.jpg' },
  ];
  const ndjson = items.map((item) => `${JSON.stringify(item)}\n`).join('');

  function serveUpload(putAnswers: Array<'reset' | number>) {
    let puts = 0;
    server.handle((req, res) => {
      if (req.method === 'POST') {
        const uploadUrl = {
          method: 'PUT',
          url: `${server.url}/signed/upload?signature=abc`,
          headers: {
            'content-type': 'application/x-ndjson',
            'x-goog-hash': `crc32c=${bodyOf(req).spec.source.crc32c}`,
          },
          expiresAtTime: Date.now() + HOUR,
        };
        const status = {
          ...datasetWire.status,
          overview: 'Waiting',
          source: { ...datasetWire.status.source, uploadUrl },
        };
        return json(res, 200, { ...datasetWire, status });
      }
      const answer = putAnswers[Math.min(puts++, putAnswers.length - 1)];
      if (answer === 'reset') {
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer);
      res.end();
    });
  }

  test('PUTs the NDJSON with exactly the returned headers plus content-length, and never the secret key', async () => {
    serveUpload([200]);
    const progress: number[] = [];
    await datatureApi.datasets.create(
      { name: 'd', source: items },
      { onUploadProgress: (sent) => progress.push(sent) },
    );
    const [post, put] = server.requests;
    expect(bodyOf(post).spec.source).toMatchObject({
      kind: 'UploadedNewlineDelimitedJsonFile',
      sizeBytes: ndjson.length,
    });
    expect(put.method).toBe('PUT');
    expect(put.url).toBe('/signed/upload?signature=abc');
    expect(put.body.toString()).toBe(ndjson);
    expect(put.headers['content-type']).toBe('application/x-ndjson');
    expect(put.headers['x-goog-hash']).toBe(`crc32c=${bodyOf(post).spec.source.crc32c}`);
    expect(put.headers['content-length']).toBe(String(ndjson.length));
    expect(put.headers['secret-key']).toBeUndefined();
    expect(progress[progress.length - 1]).toBe(ndjson.length);
  });

  test('a PUT cut off by the server is retried from the start of the source', async () => {
    const retrying = new DatatureClient({ secretKey: 'k', projectId: 'proj_1', baseUrl: server.url, maxRetries: 2 });
    serveUpload(['reset', 200]);
    let opened = 0;
    await retrying.datasets.create({
      name: 'd',
      source: () => {
        opened++;
        return Readable.from([Buffer.from(ndjson)]);
      },
    });
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    expect(puts[1].body.toString()).toBe(ndjson);
    expect(opened).toBe(3); // validation pass + two upload attempts
  });

  test('a PUT that fails on the socket names the upload URL without its signature', async () => {
    serveUpload(['reset']);
    const err = await datatureApi.datasets.create({ name: 'd', source: items }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatatureConnectionError);
    expect((err as Error).message).toContain(`PUT ${server.url}/signed/upload?[REDACTED] failed`);
    expect((err as Error).message).not.toContain('signature=abc');
  });

  test('redactSignedUrl keeps origin and path and masks the query', () => {
    expect(redactSignedUrl('https://storage.test/b/o?X-Goog-Signature=abc&X-Goog-Expires=900')).toBe(
      'https://storage.test/b/o?[REDACTED]',
    );
    expect(redactSignedUrl('https://user:pw@storage.test/b/o#frag')).toBe('https://storage.test/b/o');
    expect(redactSignedUrl('https://storage.test/b/o')).toBe('https://storage.test/b/o');
    expect(redactSignedUrl('not a url?signature=abc')).toBe('not a url?[REDACTED]');
  });

  test('a source failing mid-upload rejects with its own error, not a connection error', async () => {
    serveUpload([200]);
    const dataset = await datatureApi.datasets.createRecord({ name: 'd', sizeBytes: 10, crc32c: 'AAAAAA==' });
    const gone = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const failing = () =>
      new Readable({
        read() {
          this.destroy(gone);
        },
      });
    await expect(
      datatureApi.datasets.upload(dataset.status.source.uploadUrl, failing, {
        described: { itemCount: 1, sizeBytes: 10, crc32c: 'AAAAAA==' },
      }),
    ).rejects.toBe(gone);
  });

  test('a rejected PUT (403) is a PermissionDeniedError and is not retried', async () => {
    serveUpload([403]);
    await expect(datatureApi.datasets.create({ name: 'd', source: items })).rejects.toMatchObject({ status: 403 });
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });
});

test('countingBytes passes the bytes through with the running count, and a source error reaches the reader', async () => {
  const counts: number[] = [];
  const out = countingBytes(Readable.from([Buffer.from('ab'), Buffer.from('cde')]), (n) => counts.push(n));
  const chunks: Buffer[] = [];
  for await (const chunk of out) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe('abcde');
  expect(counts).toEqual([2, 5]);

  const failing = new Readable({ read() {} });
  const reader = countingBytes(failing, () => {});
  failing.destroy(new Error('disk gone'));
  await expect(
    (async () => {
      for await (const _ of reader);
    })(),
  ).rejects.toThrow('disk gone');
});

describe('upload headers', () => {
  const described = { itemCount: 1, sizeBytes: 123, crc32c: 'AAAAAA==' };

  test('an object map is sent as-is, content-length added when missing', () => {
    expect(uploadHeaders({ 'x-goog-if-generation-match': '0' }, described)).toEqual({
      'x-goog-if-generation-match': '0',
      'content-length': '123',
    });
    expect(uploadHeaders({ 'Content-Length': '123' }, described)).toEqual({ 'Content-Length': '123' });
  });

  test('a list of names gets the values this client knows', () => {
    expect(
      uploadHeaders(['content-length', 'x-goog-hash', 'x-goog-meta-datature-dataset-link', 'content-type'], described),
    ).toEqual({
      'content-length': '123',
      'x-goog-hash': 'crc32c=AAAAAA==',
      'content-type': 'application/x-ndjson',
    });
  });
});

test('toWireJob output parses back to the same job', () => {
  const job = JobSchema.parse(jobWire);
  expect(JobSchema.parse(toWireJob(job))).toEqual(job);
});

import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { type Api, apiClient, createWebhook, newSecret, startReceiver, uploadDataset, verify } from './helpers';

describe('emulator API surface', () => {
  let emulator: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emulator = await startEmulator({ adminRoutes: true });
    api = apiClient(emulator.url, emulator.projectId, emulator.secretKey);
  });
  afterAll(() => emulator.close());

  it('authenticates with the Secret-Key header', async () => {
    expect(await api.call('GET', '/batch/webhooks', undefined, {})).toMatchObject({
      status: 401,
      body: { message: 'missing Secret-Key header' },
    });
    expect(await api.call('GET', '/batch/webhooks', undefined, { 'secret-key': 'wrong' })).toMatchObject({
      status: 403,
      body: { message: expect.stringMatching(/not valid/) },
    });
    const other = apiClient(emulator.url, 'proj_0000000000000000000000000000ffff', emulator.secretKey);
    expect((await other.call('GET', '/batch/webhooks')).status).toBe(404);
    expect((await api.call('GET', '/batch/webhooks')).status).toBe(200);
  });

  it('pages lists oldest first with opaque cursors', async () => {
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const name of names) {
      await api.call('POST', '/batch/webhooks', {
        name,
        spec: { endpoint: 'http://127.0.0.1:9/hook', secret: { contents: newSecret() } },
      });
    }
    const first = await api.call('GET', '/batch/webhooks?limit=2&');
    expect(first.body.data.map((webhook: { name: string }) => webhook.name)).toEqual(['p1', 'p2']);
    expect(first.body.prevPage).toBeNull();
    const second = await api.call('GET', `/batch/webhooks?page=${first.body.nextPage}&limit=2`);
    expect(second.body.data.map((webhook: { name: string }) => webhook.name)).toEqual(['p3', 'p4']);
    const back = await api.call('GET', `/batch/webhooks?page=${second.body.prevPage}&limit=2`);
    expect(back.body.data.map((webhook: { name: string }) => webhook.name)).toEqual(['p1', 'p2']);
    const last = await api.call('GET', `/batch/webhooks?page=${second.body.nextPage}&limit=2`);
    expect(last.body.data.map((webhook: { name: string }) => webhook.name)).toEqual(['p5']);
    expect(last.body.nextPage).toBeNull();
    const all = await api.call('GET', '/batch/webhooks');
    expect(all.body.data).toHaveLength(5);
    for (const webhook of all.body.data) await api.call('DELETE', `/batch/webhooks/${webhook.id}`);
  });

  it('creates, updates, rotates, tests and deletes a webhook without ever returning its secret', async () => {
    const secret = newSecret();
    const receiver = await startReceiver();
    try {
      const created = await createWebhook(api, receiver.url, secret);
      expect(created).toEqual({
        id: expect.stringMatching(/^webhook_[0-9a-f-]{36}$/),
        object: 'webhook',
        projectId: emulator.projectId,
        name: 'test-webhook',
        endpoint: receiver.url,
        retries: { maxRetries: 3, maxBackoffMs: 15000 },
        createDate: expect.any(Number),
        updateDate: expect.any(Number),
      });
      const updated = await api.call('PATCH', `/batch/webhooks/${created.id}`, {
        spec: { endpoint: `${receiver.url}/v2`, retries: { maxRetries: 1, maxBackoffMs: 20000 } },
      });
      expect(updated.body).toMatchObject({
        endpoint: `${receiver.url}/v2`,
        retries: { maxRetries: 1, maxBackoffMs: 20000 },
      });
      const rotated = newSecret();
      const put = await api.call('PUT', `/batch/webhooks/${created.id}/secret`, { contents: rotated });
      expect(put.status).toBe(200);
      expect(JSON.stringify(put.body)).not.toContain(rotated);
      const tested = await api.call('POST', `/batch/webhooks/${created.id}:test`);
      expect(tested.body).toMatchObject({ status: 'Ok', responseCode: 204, attemptCount: 1 });
      expect(receiver.received[0].json).toMatchObject({ type: 'webhook.test', webhookId: created.id });
      expect(verify(rotated, receiver.received[0])).toMatchObject({ ok: true });
      expect(verify(secret, receiver.received[0])).toMatchObject({ ok: false });
      expect((await api.call('DELETE', `/batch/webhooks/${created.id}`)).body).toEqual({
        id: created.id,
        deleted: true,
      });
      expect((await api.call('GET', `/batch/webhooks/${created.id}`)).status).toBe(404);
    } finally {
      await receiver.close();
    }
  });

  it('reports a webhook test against an endpoint that is down', async () => {
    const webhook = await createWebhook(api, 'http://127.0.0.1:9/down', newSecret());
    const tested = await api.call('POST', `/batch/webhooks/${webhook.id}:test`);
    expect(tested.body).toMatchObject({
      status: 'Failed',
      responseCode: 0,
      reason: expect.stringMatching(/connection/),
    });
  });

  it('answers bad requests with a status and a message naming the field', async () => {
    const webhook = await createWebhook(api, 'http://127.0.0.1:9/hook', newSecret());
    const waiting = await api.call('POST', '/batch/datasets', {
      name: 'never-uploaded',
      spec: { source: { kind: 'UploadedNewlineDelimitedJsonFile', sizeBytes: 10, crc32c: 'AAAAAA==' } },
    });
    const job = (id: string, extra: object = {}) => ({
      name: 'job',
      spec: {
        datasetId: id,
        deployment: { kind: 'ExistingDeployment', deploymentId: emulator.deploymentId },
        resultDelivery: { destinations: [{ kind: 'Webhook', webhookId: webhook.id }] },
        ...extra,
      },
    });
    const validSpec = { endpoint: 'http://127.0.0.1:9/x', secret: { contents: newSecret() } };
    const source = { kind: 'UploadedNewlineDelimitedJsonFile', sizeBytes: 10, crc32c: 'AAAAAA==' };
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/batch/webhooks', '{not json', 400, /not valid JSON/],
      ['POST', '/batch/webhooks', { name: 'x'.repeat(1024 * 1024), spec: validSpec }, 413, /larger than 1 MiB/],
      ['POST', '/batch/webhooks', undefined, 400, /^body: /],
      ['POST', '/batch/webhooks', { spec: validSpec }, 400, /^name: /],
      ['POST', '/batch/webhooks', { name: '', spec: validSpec }, 400, /^name: must not be empty/],
      ['POST', '/batch/webhooks', { name: 'x'.repeat(121), spec: validSpec }, 400, /^name: .*120/],
      ['POST', '/batch/webhooks', { name: 'a' }, 400, /^spec: /],
      ['POST', '/batch/webhooks', { name: 'a', spec: { ...validSpec, endpoint: 'ftp://x' } }, 400, /^spec\.endpoint: /],
      [
        'POST',
        '/batch/webhooks',
        { name: 'a', spec: { ...validSpec, secret: { contents: '!!' } } },
        400,
        /^spec\.secret\.contents: /,
      ],
      [
        'POST',
        '/batch/webhooks',
        { name: 'a', spec: { ...validSpec, retries: { maxRetries: 9, maxBackoffMs: 1 } } },
        400,
        /^spec\.retries\.maxRetries: /,
      ],
      [
        'POST',
        '/batch/webhooks',
        { name: 'a', spec: { ...validSpec, retries: { maxRetries: 1, maxBackoffMs: 1.5 } } },
        400,
        /^spec\.retries\.maxBackoffMs: /,
      ],
      ['PUT', `/batch/webhooks/${webhook.id}/secret`, {}, 400, /^contents: /],
      ['GET', '/batch/webhooks/webhook_nope', undefined, 404, /webhook webhook_nope not found/],
      ['POST', '/batch/webhooks/webhook_nope:test', undefined, 404, /not found/],
      ['GET', '/batch/webhooks?limit=0', undefined, 400, /^limit: /],
      ['GET', '/batch/webhooks?page=garbage', undefined, 400, /^page: /],
      [
        'POST',
        '/batch/datasets',
        { name: 'd', spec: { source: { ...source, kind: 'Csv' } } },
        400,
        /^spec\.source\.kind: /,
      ],
      [
        'POST',
        '/batch/datasets',
        { name: 'd', spec: { source: { ...source, sizeBytes: 0 } } },
        400,
        /^spec\.source\.sizeBytes: /,
      ],
      [
        'POST',
        '/batch/datasets',
        { name: 'd', spec: { source: { ...source, crc32c: 'abc' } } },
        400,
        /^spec\.source\.crc32c: /,
      ],
      ['GET', '/batch/datasets/dataset_nope', undefined, 404, /not found/],
      ['DELETE', '/batch/datasets/dataset_nope', undefined, 404, /not found/],
      ['POST', '/batch/jobs', job('dataset_nope'), 404, /^spec\.datasetId: dataset dataset_nope not found/],
      ['POST', '/batch/jobs', job(waiting.body.id), 409, /^spec\.datasetId: .* is Waiting, not Uploaded/],
      [
        'POST',
        '/batch/jobs',
        { name: 'j', spec: { ...job('x').spec, deployment: { kind: 'Other' } } },
        400,
        /^spec\.deployment\.kind: must be/,
      ],
      [
        'POST',
        '/batch/jobs',
        { name: 'j', spec: { ...job('x').spec, resultDelivery: { destinations: [] } } },
        400,
        /^spec\.resultDelivery\.destinations: must name at least one webhook/,
      ],
      ['POST', '/batch/jobs', job('x', { startAtTime: 'soon' }), 400, /^spec\.startAtTime: /],
      ['GET', '/batch/jobs/batchjob_nope', undefined, 404, /not found/],
      ['PATCH', '/batch/jobs/batchjob_nope', { spec: { stopAtTime: 1 } }, 404, /not found/],
      ['GET', '/batch/jobs/batchjob_nope/logs', undefined, 404, /not found/],
      ['DELETE', '/batch/webhooks', undefined, 405, /not allowed/],
      ['GET', '/batch/nothing-here', undefined, 404, /no route/],
    ];
    const failures: string[] = [];
    for (const [method, path, body, status, message] of cases) {
      const response = await api.call(method, path, body);
      if (response.status !== status || !message.test(response.body?.message ?? '')) {
        failures.push(`${method} ${path} -> ${response.status} ${JSON.stringify(response.body)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it('validates job creation against live objects and logs query parameters', async () => {
    const webhook = await createWebhook(api, 'http://127.0.0.1:9/hook', newSecret());
    const dataset = await uploadDataset(api, ['http://127.0.0.1:9/a.png']);
    const spec = {
      datasetId: dataset.id,
      deployment: { kind: 'ExistingDeployment', deploymentId: emulator.deploymentId },
      resultDelivery: { destinations: [{ kind: 'Webhook', webhookId: webhook.id }] },
    };
    const cases: [unknown, number, RegExp][] = [
      [
        { name: 'j', spec: { ...spec, deployment: { kind: 'ExistingDeployment', deploymentId: 'deploy_x' } } },
        404,
        /^spec\.deployment\.deploymentId: /,
      ],
      [
        {
          name: 'j',
          spec: { ...spec, resultDelivery: { destinations: [{ kind: 'Webhook', webhookId: 'webhook_x' }] } },
        },
        404,
        /^spec\.resultDelivery\.destinations: /,
      ],
      [{ name: 'j', spec: { ...spec, startAtTime: 2000, stopAtTime: 1000 } }, 400, /^spec\.stopAtTime: must be after/],
    ];
    for (const [body, status, message] of cases) {
      const response = await api.call('POST', '/batch/jobs', body);
      expect({ status: response.status, message: response.body.message }).toEqual({
        status,
        message: expect.stringMatching(message),
      });
    }
    const job = await api.call('POST', '/batch/jobs', {
      name: 'j',
      spec: { ...spec, startAtTime: Date.now() + 3_600_000 },
    });
    expect(job.body.status.overview).toBe('Waiting');
    expect(job.body.spec.stopAtTime - job.body.spec.startAtTime).toBe(3 * 24 * 3_600_000);
    for (const [query, message] of [
      ['maxEntries=1001', /^maxEntries: /],
      ['minLevel=Loud', /^minLevel: /],
      ['beforeTime=yesterday', /^beforeTime: /],
    ] as const) {
      const response = await api.call('GET', `/batch/jobs/${job.body.id}/logs?${query}`);
      expect({ status: response.status, message: response.body.message }).toEqual({
        status: 400,
        message: expect.stringMatching(message),
      });
    }
    const patch = await api.call('PATCH', `/batch/jobs/${job.body.id}`, { spec: { stopAtTime: -5 } });
    expect(patch).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^spec\.stopAtTime: /) } });
    expect((await api.call('DELETE', `/batch/datasets/${dataset.id}`)).status).toBe(409);
  });

  it('serves the deployment lookups of the SDK', async () => {
    const list = await api.call('GET', '/deployments');
    expect(list.body[0]).toMatchObject({
      id: emulator.deploymentId,
      scaling: { replicas: 4 },
      status: { overview: 'Available' },
    });
    expect((await api.call('GET', `/deployments/${emulator.deploymentId}`)).status).toBe(200);
    const instances = await api.call('GET', '/artifacts/artifact_1/availableInstances/regions/*');
    expect(instances.body.availableInstances.map((instance: { instanceId: string }) => instance.instanceId)).toContain(
      'instance_t4-standard-1g',
    );
  });
});

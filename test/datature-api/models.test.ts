import {
  DatasetSchema,
  DeleteResponseSchema,
  type Deployment,
  JobLogsSchema,
  JobSchema,
  pageSchema,
  toWireDataset,
  toWireJob,
  toWireWebhook,
  WebhookSchema,
  WebhookTestResponseSchema,
} from '../../src/datature-api';
import {
  datasetWire,
  ephemeralDeploymentWire,
  jobLogsWire,
  jobWire,
  webhookTestWire,
  webhookWire,
} from './fixtures/seed-wire';

describe('seed examples parse into the typed objects', () => {
  test('WebhookModel -> Webhook, maxBackoffMs -> retries.maxRetryDelay', () => {
    expect(WebhookSchema.parse(webhookWire)).toEqual({
      id: 'webhook_f7d8aec2-7e2b-4d2c-a103-c8dd575c29c7',
      object: 'webhook',
      projectId: 'proj_ca5fe71e7592bbcf7705ea36e4f29ed4',
      name: 'aws-lambda',
      endpoint: 'https://lambda-url.ap-southeast-1.on.aws/',
      retries: { maxRetries: 3, maxRetryDelay: 15000 },
      createDate: 1723633671620,
      updateDate: 1723736909980,
    });
  });

  test('WebhookTestResponse', () => {
    const parsed = WebhookTestResponseSchema.parse(webhookTestWire);
    expect(parsed).toMatchObject({ status: 'Ok', responseCode: 204, latencyMs: 648, attemptCount: 1, body: null });
  });

  test('Dataset with DatasetStatus, DatasetSource, DatasetUploadUrl (headers as a list of names)', () => {
    const dataset = DatasetSchema.parse(datasetWire);
    expect(dataset.status.itemCount).toBe(50);
    expect(dataset.status.updateTime).toBe(1723697121735);
    expect(dataset.status.source.kind).toBe('UploadedNewlineDelimitedJsonFile');
    expect(dataset.status.source.uploadUrl).toEqual({
      method: 'PUT',
      url: '',
      headers: datasetWire.status.source.uploadUrl.headers,
      expiresAtTime: 1723740318174,
    });
    expect(dataset.expiryTime).toBe(1724561116000);
  });

  test('uploadUrl.headers as an object map, and expiryTime as a numeric string', () => {
    const wire = structuredClone(datasetWire) as Record<string, unknown> & typeof datasetWire;
    (wire.status.source.uploadUrl as { headers: unknown }).headers = { 'content-type': 'application/x-ndjson' };
    (wire as { expiryTime: unknown }).expiryTime = '1724561116000';
    const dataset = DatasetSchema.parse(wire);
    expect(dataset.status.source.uploadUrl.headers).toEqual({ 'content-type': 'application/x-ndjson' });
    expect(dataset.expiryTime).toBe(1724561116000);
  });

  test('Job with JobSpec, ResultDelivery, Webhook destination, ExistingDeployment, JobStatus, JobItemStatus', () => {
    const job = JobSchema.parse(jobWire);
    expect(job.status.items).toEqual({
      gathered: 50,
      failedGather: 0,
      preprocessed: 0,
      failedProcess: 0,
      predicted: 0,
      failedPredict: 0,
      delivered: 0,
      failedDeliver: 0,
    });
    expect(job.spec.deployment).toEqual({
      kind: 'ExistingDeployment',
      deploymentId: 'deploy_3286bd71-9a8b-42bb-8ba6-c07549b81367',
    });
    expect(job.spec.resultDelivery.destinations[0].webhookId).toBe('webhook_ed981529-0160-4704-8794-e7702a8de470');
    expect(job.spec.datasetId).toBe('dataset_652ef566-af5c-4d52-b1e4-ec8ec6dc4b8e');
    expect(job.status).toMatchObject({
      overview: 'Waiting',
      message: 'Waiting',
      updateDate: 1723734509417,
      reason: null,
    });
    expect(job.createDate).toBe(1723734419985);
  });

  test('NewEphemeralDeployment with Deployment and its sub-objects', () => {
    const job = JobSchema.parse({ ...jobWire, spec: { ...jobWire.spec, deployment: ephemeralDeploymentWire } });
    const deployment = job.spec.deployment;
    if (deployment.kind !== 'NewEphemeralDeployment' || !('template' in deployment)) throw new Error('wrong kind');
    const template = deployment.template as Deployment;
    expect(template.resources).toEqual({ cpu: 4, ram: 8192, GPU_T4: null });
    expect(template.scaling).toEqual({ replicas: 1, mode: 'FixedReplicaCount' });
    expect(template.status?.overview).toBe('Available');
    expect(template.historyVersions?.[0].versionTag).toBe('v1.0.0');
  });

  test('JobLogs and JobLogEntry', () => {
    const logs = JobLogsSchema.parse(jobLogsWire);
    expect(logs.entries[0]).toEqual({
      kind: 'ItemPredicted',
      createTime: 1723080300011,
      id: '1e0ad7896a4aa2dd47eda727',
      level: 'Info',
      item: 'https://my-endpoint.url/blood_cell/36.jpg',
      status: 'Delivered',
      timeMs: 9819.226,
      reason: '',
    });
  });

  test('DeleteResponse and the pagination envelope', () => {
    expect(DeleteResponseSchema.parse({ id: 'webhook_1', deleted: true })).toEqual({ id: 'webhook_1', deleted: true });
    const page = pageSchema(WebhookSchema).parse({ data: [webhookWire], nextPage: 'abc', prevPage: null });
    expect(page.data[0].retries.maxRetryDelay).toBe(15000);
    expect(page.nextPage).toBe('abc');
    expect(pageSchema(WebhookSchema).parse({})).toEqual({ data: [], nextPage: null, prevPage: null });
  });
});

describe('wire JSON round-trips', () => {
  test.each([
    ['webhook', () => toWireWebhook(WebhookSchema.parse(webhookWire)), webhookWire],
    ['dataset', () => toWireDataset(DatasetSchema.parse(datasetWire)), datasetWire],
    ['job', () => toWireJob(JobSchema.parse(jobWire)), jobWire],
  ])('%s', (_name, roundTrip, wire) => {
    expect(roundTrip()).toEqual(wire);
  });
});

/** The seed job's wire JSON, loosened so a test can add or drop fields. */
type JobWireDraft = Omit<typeof jobWire, 'spec' | 'status'> & {
  [key: string]: unknown;
  spec: Omit<typeof jobWire.spec, 'deployment'> & { deployment: Record<string, unknown> };
  status: Omit<typeof jobWire.status, 'items'> & { [key: string]: unknown; items: Record<string, number> };
};

describe('tolerance of what the client does not know yet', () => {
  test('unknown fields are kept, at every level, through parse and back to the wire', () => {
    const wire: JobWireDraft = structuredClone(jobWire);
    wire.newTopLevel = { a: 1 };
    wire.status.items.Retried = 7;
    wire.status.estimatedFinish = 123;
    const job = JobSchema.parse(wire);
    expect(job.newTopLevel).toEqual({ a: 1 });
    expect(job.status.items.Retried).toBe(7);
    expect(job.status.estimatedFinish).toBe(123);
    expect(toWireJob(job)).toEqual(wire);
  });

  test('unknown status strings and deployment kinds are plain strings', () => {
    const wire: JobWireDraft = structuredClone(jobWire);
    wire.status.overview = 'Running';
    wire.spec.deployment = { kind: 'ServerlessDeployment', endpoint: 'x' };
    const job = JobSchema.parse(wire);
    expect(job.status.overview).toBe('Running');
    expect(job.spec.deployment).toEqual({ kind: 'ServerlessDeployment', endpoint: 'x' });
  });

  test('missing item counters default to 0, cancelledAt is kept', () => {
    const wire: JobWireDraft = structuredClone(jobWire);
    wire.status.items = { Gathered: 3 };
    wire.status.cancelledAt = 1723734500000;
    const job = JobSchema.parse(wire);
    expect(job.status.items.gathered).toBe(3);
    expect(job.status.items.failedProcess).toBe(0);
    expect(job.status.cancelledAt).toBe(1723734500000);
  });

  test('a missing required field is rejected, naming it', () => {
    const { retries: _retries, ...wire } = webhookWire;
    const result = WebhookSchema.safeParse(wire);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['retries']);
  });
});

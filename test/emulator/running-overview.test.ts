// What a job reports while its items flow: the hosted API's value is unknown (the SDK knows only Waiting,
// Reached, Failed; the docs show Waiting with items gathered), so the emulator's choice is an option.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_RUNNING_JOB_OVERVIEW, DEV_PROJECT_ID, DEV_SECRET_KEY, startEmulator } from '../../src/emulator';
import {
  type Api,
  apiClient,
  createJob,
  createWebhook,
  type ImageServer,
  newSecret,
  startImageServer,
  startReceiver,
  uploadDataset,
  useEmulatorFixture,
  waitFor,
  waitForJob,
} from './helpers';

const imageUrls = (images: ImageServer, count: number) =>
  Array.from({ length: count }, (_, i) => `${images.url}/img/${i}.png`);

/** Polls the job until some items were gathered and not all are accounted for; returns that snapshot. */
async function midway(api: Api, jobId: string, itemCount: number) {
  return waitFor('items in flight', async () => {
    const got = await api.call('GET', `/batch/jobs/${jobId}`);
    const { items } = got.body.status;
    return items.Gathered > 0 && items.Delivered + items.FailedDeliver < itemCount ? got.body : undefined;
  });
}

test('the default is Waiting, the docs example', () => {
  expect(DEFAULT_RUNNING_JOB_OVERVIEW).toBe('Waiting');
});

describe.each([
  { label: 'default', runningJobOverview: undefined, expected: 'Waiting' },
  { label: 'runningJobOverview: Running', runningJobOverview: 'Running', expected: 'Running' },
  { label: 'runningJobOverview: Gathering', runningJobOverview: 'Gathering', expected: 'Gathering' },
])('a job whose items flow ($label)', ({ runningJobOverview, expected }) => {
  const fixture = useEmulatorFixture(
    {
      adminRoutes: true,
      tickIntervalMs: 20,
      runningJobOverview,
    },
    { webhookSink: true },
  );
  beforeAll(async () => {
    // Slow downloads keep the job's items flowing long enough to look at it.
    await fixture.api.call('POST', '/_emulator/faults', { gather: { latencyMs: 100 } });
  });

  it(`reports ${expected} (overview and message) while items flow, then Reached / Finished`, async () => {
    expect(fixture.emulator.runningJobOverview).toBe(expected);
    const dataset = await uploadDataset(fixture.api, imageUrls(fixture.images, 40));
    const created = await createJob(fixture.api, dataset.id, fixture.webhookId, fixture.emulator.deploymentId);
    expect(created.status).toBe(200);
    // Before the engine picks it up the job is genuinely waiting, whatever the option.
    expect(created.body.status).toMatchObject({ overview: 'Waiting', message: 'Waiting' });

    const during = await midway(fixture.api, created.body.id, 40);
    expect(during.status).toMatchObject({ overview: expected, message: expected });
    const listed = (await fixture.api.call('GET', '/batch/jobs')).body.data.find(
      (job: { id: string }) => job.id === created.body.id,
    );
    expect(listed.status).toMatchObject({ overview: expected, message: expected });
    expect((await fixture.api.call('GET', '/_emulator/state')).body.activeJobs).toBe(1);

    const done = await waitForJob(fixture.api, created.body.id);
    expect(done.status).toMatchObject({ overview: 'Reached', message: 'Finished' });
    expect(done.status.items).toMatchObject({ Gathered: 40, Delivered: 40, FailedDeliver: 0 });
    expect((await fixture.api.call('GET', '/_emulator/state')).body.activeJobs).toBe(0);
  });

  it('still counts as not ended: its dataset cannot be deleted, a cancel is accepted', async () => {
    const dataset = await uploadDataset(fixture.api, imageUrls(fixture.images, 100));
    const job = (await createJob(fixture.api, dataset.id, fixture.webhookId, fixture.emulator.deploymentId)).body;
    await midway(fixture.api, job.id, 100);

    const deleteWhileRunning = await fixture.api.call('DELETE', `/batch/datasets/${dataset.id}`);
    expect(deleteWhileRunning.status).toBe(409);

    const cancelled = await fixture.api.call('PATCH', `/batch/jobs/${job.id}`, { spec: { stopAtTime: Date.now() } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status.cancelledAt).toEqual(expect.any(Number));
    const done = await waitForJob(fixture.api, job.id);
    expect(done.status).toMatchObject({ overview: 'Reached', message: 'Cancelled' });
    expect(done.status.items.Delivered + done.status.items.FailedDeliver).toBeLessThan(100);

    expect((await fixture.api.call('PATCH', `/batch/jobs/${job.id}`, { spec: { stopAtTime: 1 } })).status).toBe(409);
    expect((await fixture.api.call('DELETE', `/batch/datasets/${dataset.id}`)).status).toBe(200);
  });
});

test.each(['Reached', 'Failed', '', ' '])(
  'refuses runningJobOverview %j (it would look ended or empty)',
  async (value) => {
    await expect(startEmulator({ runningJobOverview: value })).rejects.toThrow(/runningJobOverview/);
  },
);

describe('the CLI flag --running-job-overview', () => {
  const bin = join(__dirname, '..', '..', 'bin', 'datature-batch.js');
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  /** Starts `datature-batch --json emulator ...` and returns its parsed JSON result once printed. */
  async function startCli(args: string[]): Promise<Record<string, unknown>> {
    const env = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith('DATATURE_')) delete env[name];
    child = spawn(process.execPath, [bin, '--json', 'emulator', '--port', '0', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    return new Promise((resolve, reject) => {
      child!.stdout!.on('data', (chunk) => {
        stdout += chunk;
        try {
          resolve(JSON.parse(stdout));
        } catch {}
      });
      child!.once('exit', (code) => reject(new Error(`emulator command exited with ${code}: ${stderr}`)));
    });
  }

  it('makes a running job report that overview on the wire', async () => {
    const images = await startImageServer();
    const receiver = await startReceiver();
    try {
      const started = await startCli(['--admin', '--running-job-overview', 'Running']);
      expect(started.runningJobOverview).toBe('Running');
      const api = apiClient(started.url as string, DEV_PROJECT_ID, DEV_SECRET_KEY);
      await api.call('POST', '/_emulator/faults', { gather: { latencyMs: 100 } });
      const webhook = await createWebhook(api, receiver.url, newSecret());
      const dataset = await uploadDataset(api, imageUrls(images, 40));
      const job = (await createJob(api, dataset.id, webhook.id, started.deploymentId as string)).body;
      expect((await midway(api, job.id, 40)).status).toMatchObject({ overview: 'Running', message: 'Running' });
      expect((await waitForJob(api, job.id)).status).toMatchObject({ overview: 'Reached', message: 'Finished' });
    } finally {
      await images.close();
      await receiver.close();
    }
  });

  it('defaults to Waiting', async () => {
    const started = await startCli([]);
    expect(started.runningJobOverview).toBe('Waiting');
  });
});

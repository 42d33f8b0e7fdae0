import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEV_DEPLOYMENT_ID, DEV_PROJECT_ID, DEV_SECRET_KEY } from '../../src/emulator';
import {
  apiClient,
  createJob,
  createWebhook,
  newSecret,
  startImageServer,
  startReceiver,
  uploadDataset,
  waitFor,
  waitForJob,
} from './helpers';

async function spawnEmulator(dbPath: string, options: object): Promise<{ child: ChildProcess; url: string }> {
  // tsx as a loader inside one node process (not the tsx wrapper, whose child would survive a SIGKILL).
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', join(__dirname, 'fixtures', 'emulator-process.ts'), dbPath],
    {
      env: { ...process.env, EMULATOR_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator process exited with ${code}`)));
  });
  return { child, url: JSON.parse(firstLine).url };
}

async function kill(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('emulator state in SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-db-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps datasets, jobs, counters and logs across a SIGKILL and carries the job on', async () => {
    const images = await startImageServer();
    const receiver = await startReceiver();
    const dbPath = join(dir, 'emulator.db');
    // Slow gathering so the job is surely mid-way when the process is killed.
    const options = { tickIntervalMs: 20, faults: { gather: { latencyMs: 60 } } };
    let first = await spawnEmulator(dbPath, options);
    try {
      let api = apiClient(first.url, DEV_PROJECT_ID, DEV_SECRET_KEY);
      const secret = newSecret();
      const webhook = await createWebhook(api, receiver.url, secret);
      const itemCount = 300;
      const dataset = await uploadDataset(
        api,
        Array.from({ length: itemCount }, (_, i) => `${images.url}/img/${i}.png`),
      );
      const job = (await createJob(api, dataset.id, webhook.id, DEV_DEPLOYMENT_ID)).body;
      const before = await waitFor('some items delivered', async () => {
        const got = await api.call('GET', `/batch/jobs/${job.id}`);
        return got.body.status.items.Delivered >= 40 ? got.body : undefined;
      });
      expect(before.status.items.Delivered).toBeLessThan(itemCount);
      expect(before.status.overview).toBe('Waiting');
      await kill(first.child);

      // The wire overview of a running job is an option, not state: a restart may pick another one.
      first = await spawnEmulator(dbPath, { ...options, runningJobOverview: 'Running' });
      api = apiClient(first.url, DEV_PROJECT_ID, DEV_SECRET_KEY);
      expect((await api.call('GET', `/batch/datasets/${dataset.id}`)).body.status.itemCount).toBe(itemCount);
      expect((await api.call('GET', `/batch/webhooks/${webhook.id}`)).status).toBe(200);
      const resumed = await api.call('GET', `/batch/jobs/${job.id}`);
      expect(resumed.body.status.items.Delivered).toBeGreaterThan(0);
      expect(resumed.body.status).toMatchObject({ overview: 'Running', message: 'Running' });

      const done = await waitForJob(api, job.id);
      expect(done.status).toMatchObject({ overview: 'Reached', message: 'Finished' });
      expect(done.status.items).toMatchObject({ Gathered: itemCount, Delivered: itemCount, FailedDeliver: 0 });

      // One page holds them all: paging by createTime is allLogs' business (entries share milliseconds).
      const entries: { item: string }[] = (await api.call('GET', `/batch/jobs/${job.id}/logs?maxEntries=1000`)).body
        .entries;
      // Exactly one outcome per item, even for the items in flight at the kill.
      expect(entries).toHaveLength(itemCount);
      expect(new Set(entries.map((entry) => entry.item)).size).toBe(itemCount);
      // Never lost: every item reached the webhook at least once (in-flight ones maybe twice).
      const deliveredItems = new Set(receiver.received.map((delivery) => (delivery.json.item as { url: string }).url));
      expect(deliveredItems.size).toBe(itemCount);
      // A redone item is sent with the same webhook-id, so a receiver de-duplicating on it sees each item once.
      expect(new Set(receiver.received.map((delivery) => delivery.headers['webhook-id'])).size).toBe(itemCount);
    } finally {
      await kill(first.child);
      await images.close();
      await receiver.close();
    }
  });
});

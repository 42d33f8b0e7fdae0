// The official Python SDK, unchanged, against the emulator: the strongest check of wire compatibility.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { venvPythonPath } from '../../src/dev/binaries';
import { type RunningEmulator, startEmulator } from '../../src/emulator';
import { startImageServer, startReceiver, verify } from './helpers';

const run = promisify(execFile);
const ITEMS = 1100;

describe('official Datature Python SDK against the emulator', () => {
  let emulator: RunningEmulator;
  const workDir = mkdtempSync(join(tmpdir(), 'emulator-sdk-'));

  beforeAll(async () => {
    emulator = await startEmulator({ tickIntervalMs: 50 });
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('runs webhooks, datasets and jobs end to end and decodes every response', async () => {
    const images = await startImageServer();
    const receiver = await startReceiver();
    try {
      const config = {
        projectId: emulator.projectId,
        secretKey: emulator.secretKey,
        deploymentId: emulator.deploymentId,
        receiverUrl: receiver.url,
        imageUrls: Array.from({ length: ITEMS }, (_, i) => `${images.url}/img/${i}.png`),
        workDir,
      };
      const { stdout } = await run(
        venvPythonPath(),
        [join(__dirname, 'python', 'sdk_flow.py'), JSON.stringify(config)],
        {
          env: { ...process.env, DATATURE_API_BASE_URL: emulator.url },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 100_000,
        },
      );
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('SUMMARY '));
      expect(line).toBeDefined();
      const summary = JSON.parse(line!.slice('SUMMARY '.length));
      expect(summary.webhooks).toMatchObject({
        listed: 2,
        got: true,
        updatedRetries: 3,
        testStatus: 'Ok',
        testCode: 204,
        deleted: true,
      });
      expect(summary.datasets).toEqual({
        createdOverview: 'Waiting',
        overview: 'Uploaded',
        itemCount: ITEMS,
        listed: 2,
        got: true,
        deleted: true,
      });
      expect(summary.jobs).toMatchObject({
        overview: 'Reached',
        message: 'Finished',
        delivered: ITEMS,
        gathered: ITEMS,
        listed: 1,
        logPage: 10,
        entryStatus: 'Delivered',
        ephemeralKind: 'NewEphemeralDeployment',
        ephemeralInstance: expect.stringMatching(/^instance_/),
        cancelledAt: true,
        deleted: true,
      });
      // get_all_log_entries pages with an exclusive beforeTime = last createTime: the entries of the
      // boundary millisecond left for the next page are lost (the emulator stamps the real millisecond,
      // shared by items finishing together). So at most ITEMS, at least the first full page, no duplicate.
      expect(summary.jobs.allEntries).toBeLessThanOrEqual(ITEMS);
      expect(summary.jobs.allEntries).toBeGreaterThanOrEqual(1000);
      expect(summary.jobs.distinctItems).toBe(summary.jobs.allEntries);
      const itemDeliveries = receiver.received.filter((delivery) => delivery.json.type === 'batch.item.predicted');
      expect(itemDeliveries).toHaveLength(ITEMS);
      expect(verify(summary.webhooks.secret, itemDeliveries[0])).toMatchObject({ ok: true });
    } finally {
      await images.close();
      await receiver.close();
    }
  });
});

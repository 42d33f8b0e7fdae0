import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatatureClient } from '../../src/datature-api';
import { startEmulator } from '../../src/emulator';
import { runCli } from './run-cli';

const sampleCount = readdirSync(join(__dirname, '..', '..', 'samples', 'images')).filter((name) =>
  name.endsWith('.png'),
).length;

/** The one-command demo, end to end: the whole embedded stack starts, runs, reports and stops. */
describe('demo', () => {
  test('runs the sample dataset and prints counters that match the emulator job and the receiver file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cli-demo-'));
    const startedAt = Date.now();
    const demo = await runCli(['demo', '--json', '--data-dir', dataDir]);
    const elapsedMs = Date.now() - startedAt;
    expect({ code: demo.code, stderr: demo.stderr }).toMatchObject({ code: 0 });
    const summary = JSON.parse(demo.stdout);
    expect(sampleCount).toBeGreaterThanOrEqual(50);
    expect(summary.itemCount).toBe(sampleCount);
    expect(summary.items.delivered).toBe(sampleCount);
    expect(summary.receiverCount).toBe(sampleCount);
    expect(summary.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(summary.uiUrl).toMatch(new RegExp(`/namespaces/default/workflows/${summary.workflowId}$`));
    console.log(`demo took ${elapsedMs} ms (reported ${summary.elapsedMs} ms)`);

    // The emulator persisted its state in the data dir: reopen it and compare with what was printed.
    const emulator = await startEmulator({ port: 0, host: '127.0.0.1', dbPath: join(dataDir, 'emulator.db') });
    try {
      const datatureApi = new DatatureClient({
        secretKey: emulator.secretKey,
        projectId: emulator.projectId,
        baseUrl: emulator.url,
      });
      const job = await datatureApi.jobs.get(summary.jobId);
      expect(job.status.items).toEqual(summary.items);
      expect(job.status.overview).toBe(summary.status);
    } finally {
      await emulator.close();
    }

    const stored = readFileSync(summary.predictionsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((prediction) => prediction.jobId === summary.jobId);
    expect(stored).toHaveLength(summary.receiverCount);
    expect(new Set(stored.map((prediction) => prediction.item.url)).size).toBe(sampleCount);

    const logs = readFileSync(summary.logsFile, 'utf8').trim().split('\n');
    expect(logs).toHaveLength(summary.logEntries);
    expect(summary.logEntries).toBeGreaterThanOrEqual(sampleCount);

    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
  });
});

// All log entries of one job with 1,000,000 entries (100,000 with BENCH_QUICK=1), 7 per millisecond as
// when items finish together: the official Python SDK's get_all_log_entries (baseline) vs the
// `datature-batch jobs logs` command vs the workflow's log collection activity, both from the package's build
// as an installed CLI and worker run them. Time, peak RSS, and whether every entry came exactly once.
//   npx tsx bench/logs.ts         BENCH_QUICK=1 npx tsx bench/logs.ts      BENCH_LOG_ENTRIES=200000 ...
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatatureClient, generateWebhookSecret } from '../src/datature-api';
import { Store } from '../src/emulator/store';
import { check, type Figures, type Measured, measure, QUICK, runBench, runIfMain } from './support/ab';
import { buildInstalledCli } from './support/installed-cli';
import { PYTHON, ROOT, startEmulatorProcess } from './support/processes';

const ENTRIES = Number(process.env.BENCH_LOG_ENTRIES ?? (QUICK ? 100_000 : 1_000_000));
// Not a divisor of the page size (1000), so page boundaries fall inside milliseconds, as they do in real jobs.
const PER_MS = 7;
const ROUNDS = QUICK ? 1 : 3;
const GOAL_S = 15;
const GOAL_RSS_MIB = 200;

/** A finished 10-item job on the emulator at `dbPath`; returns its id. */
async function finishedJob(dbPath: string): Promise<string> {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);
  const server = createServer((req, res) => {
    req.resume();
    if (req.method === 'GET') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const outside = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const emulator = await startEmulatorProcess(dbPath, { tickIntervalMs: 20 });
  try {
    const datatureApi = new DatatureClient({
      secretKey: emulator.secretKey,
      projectId: emulator.projectId,
      baseUrl: emulator.url,
    });
    const items = Array.from({ length: 10 }, (_, i) => ({ kind: 'Image' as const, url: `${outside}/${i}.png` }));
    const dataset = await datatureApi.datasets.create({ name: 'bench-logs', source: items });
    await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 50 });
    const webhook = await datatureApi.webhooks.create({
      name: 'sink',
      endpoint: `${outside}/hook`,
      secret: generateWebhookSecret(),
    });
    const job = await datatureApi.jobs.create({
      name: 'bench-logs',
      datasetId: dataset.id,
      deploymentId: emulator.deploymentId,
      webhookIds: [webhook.id],
    });
    await datatureApi.jobs.waitUntilDone(job.id, { intervalMs: 50 });
    return job.id;
  } finally {
    await emulator.stop();
    server.close();
  }
}

/** Replaces the job's log entries with `ENTRIES` of them, PER_MS sharing each millisecond (untimed setup). */
function seedLogs(dbPath: string, jobId: string): void {
  const store = new Store(dbPath);
  try {
    const base = Date.now() - ENTRIES;
    store.transaction(() => store.deleteJobLogs(jobId));
    for (let from = 0; from < ENTRIES; from += 50_000) {
      const rows = Array.from({ length: Math.min(50_000, ENTRIES - from) }, (_, k) => {
        const i = from + k;
        return {
          job_id: jobId,
          seq: i + 1,
          id: randomBytes(12).toString('hex'),
          item_index: i,
          create_time: base + Math.floor(i / PER_MS),
          level: 'Info',
          item: `https://storage.example.com/bench/${i}.jpg`,
          status: 'Delivered',
          time_ms: 12.5,
          reason: '',
        };
      });
      store.transaction(() => store.insertLogs(rows));
    }
  } finally {
    store.close();
  }
}

function idsOfFile(path: string): { entries: number; unique: number } {
  const ids = new Set<string>();
  let entries = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    entries++;
    ids.add((JSON.parse(line) as { id: string }).id);
  }
  return { entries, unique: ids.size };
}

function figures(run: Measured, counted: { entries: number; unique: number }): Figures {
  return {
    wallS: run.wallS,
    perS: counted.entries / run.wallS,
    peakRssMiB: run.peakRssMiB,
    cpuS: run.cpuS,
    entries: counted.entries,
    complete:
      counted.entries === ENTRIES && counted.unique === ENTRIES ? 'yes' : `no (${ENTRIES - counted.unique} missing)`,
  };
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-logs-'));
  const dbPath = join(dir, 'emulator.db');
  let emulator: Awaited<ReturnType<typeof startEmulatorProcess>> | undefined;
  const installed = buildInstalledCli();
  try {
    const jobId = await finishedJob(dbPath);
    seedLogs(dbPath, jobId);
    emulator = await startEmulatorProcess(dbPath);
    const env = emulator.env;
    const sdk = {
      name: 'Python SDK `get_all_log_entries`',
      async run() {
        const run = check(
          await measure(
            PYTHON,
            [join(__dirname, 'support', 'sdk_logs.py'), env.DATATURE_PROJECT_ID!, env.DATATURE_SECRET_KEY!, jobId],
            { env },
          ),
          'sdk',
        );
        // The SDK draws a spinner on stdout: the JSON line is the last thing printed.
        return figures(run, JSON.parse(/\{"entries".*\}/.exec(run.stdout)![0]));
      },
    };
    const cli = {
      name: '`datature-batch jobs logs --output`',
      async run(round: number) {
        const output = join(dir, `cli-${round}.ndjson`);
        const run = check(
          await measure(process.execPath, [installed.bin, 'jobs', 'logs', jobId, '--output', output], {
            env,
            cwd: ROOT,
          }),
          'cli',
        );
        const counted = idsOfFile(output);
        rmSync(output);
        return figures(run, counted);
      },
    };
    const activity = {
      name: 'workflow log collection (collectLogs activity)',
      async run(round: number) {
        const logsDir = join(dir, `activity-${round}`);
        const run = check(
          await measure(
            process.execPath,
            [join(__dirname, 'support', 'collect-logs-child.js'), installed.dist, jobId, logsDir],
            { env, cwd: ROOT },
          ),
          'collectLogs',
        );
        const file = join(logsDir, 'bench.logs.ndjson');
        const counted = existsSync(file) ? idsOfFile(file) : { entries: 0, unique: 0 };
        rmSync(logsDir, { recursive: true, force: true });
        const { rssBeforeMiB } = JSON.parse(run.stdout) as { rssBeforeMiB: number };
        return { ...figures(run, counted), rssBeforeMiB };
      },
    };
    const hasSdk = existsSync(PYTHON);
    if (!hasSdk) console.error(`no ${PYTHON}: run \`npm run bootstrap -- --with-python-sdk\` for the SDK baseline`);
    await runBench({
      title: 'logs: every entry of one job',
      setup: `${ENTRIES.toLocaleString('en')} entries, ${PER_MS} per millisecond, emulator (SQLite) in its own process on loopback`,
      rounds: ROUNDS,
      baseline: hasSdk ? sdk : cli,
      variants: hasSdk ? [cli, activity] : [activity],
      columns: [
        { key: 'wallS', label: 'wall s', ratio: true, digits: 2 },
        { key: 'perS', label: 'entries/s', digits: 0 },
        { key: 'peakRssMiB', label: 'peak RSS MiB', digits: 0 },
        { key: 'cpuS', label: 'CPU s', digits: 2 },
        { key: 'entries', label: 'entries', digits: 0 },
        { key: 'complete', label: 'each entry once' },
      ],
      notes: (medians) => [
        `Both run from the build. The activity runs under @temporalio/testing's MockActivityEnvironment, whose modules with the activities' take ${(medians.get(activity.name)!.rssBeforeMiB as number).toFixed(0)} MiB of that process's RSS before it collects anything (a worker process has its own).`,
        `goal: ${ENTRIES.toLocaleString('en')} entries in <= ${GOAL_S} s with peak RSS <= ${GOAL_RSS_MIB} MiB (the goal is set for 1,000,000): ${[
          cli,
          activity,
        ]
          .map((variant) => {
            const m = medians.get(variant.name)!;
            const met = (m.wallS as number) <= GOAL_S && (m.peakRssMiB as number) <= GOAL_RSS_MIB;
            return `${variant.name} ${met ? 'met' : 'NOT met'}`;
          })
          .join(', ')}`,
      ],
    });
  } finally {
    installed.remove();
    await emulator?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(module, main);

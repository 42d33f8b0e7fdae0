// Upload at wire speed: `datature-batch datasets create` against `curl -T` to a signed upload URL of the
// same emulator, on a 512 MiB NDJSON file (64 MiB with BENCH_QUICK=1), run from this checkout (its sources
// through tsx) and as an installed package runs it (the build), with the same calls timed stage by stage in a
// process of their own (where the time goes); then the client's validation + CRC32C pass alone, from a file
// path and from a stream factory (the worker's path for a shard).
//   npx tsx bench/upload.ts          BENCH_QUICK=1 npx tsx bench/upload.ts
//   BENCH_CLI=<other checkout>/bin/datature-batch.js BENCH_SRC=<other checkout>/src npx tsx bench/upload.ts
//     measures another checkout's client the same way (the emulator stays this one).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatatureClient, uploadHeaders, validateNdjson } from '../src/datature-api';
import { check, type Figures, measure, QUICK, runBench, runIfMain } from './support/ab';
import { buildInstalledCli } from './support/installed-cli';
import { CLI, ROOT, startEmulatorProcess } from './support/processes';
import { writeSignedUrlDataset } from './support/signed-url-dataset';

const MIB = 1024 * 1024;
const FILE_MIB = Number(process.env.BENCH_UPLOAD_MIB ?? (QUICK ? 64 : 512));
const ROUNDS = QUICK ? 2 : 4;
const GOAL_RATIO = 0.85;
const GOAL_RSS_MIB = 150;

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-upload-'));
  const file = join(dir, 'items.ndjson');
  const emulator = await startEmulatorProcess(join(dir, 'emulator.db'));
  const installed = process.env.BENCH_CLI ? undefined : buildInstalledCli();
  try {
    await writeSignedUrlDataset(file, FILE_MIB * MIB);
    const size = statSync(file).size;
    const mb = size / 1e6;
    const datatureApi = new DatatureClient({
      secretKey: emulator.secretKey,
      projectId: emulator.projectId,
      baseUrl: emulator.url,
    });
    const described = await validateNdjson(file);
    const cli = process.env.BENCH_CLI ?? CLI;
    const figures = (wallS: number, peakRssMiB: number, cpuS: number): Figures => ({
      mbps: mb / wallS,
      wallS,
      peakRssMiB,
      cpuS,
    });

    const curl = {
      name: '`curl -T` to the signed URL',
      async run() {
        // The dataset record (untimed): curl only uploads, as after the SDK's create call.
        const dataset = await datatureApi.datasets.createRecord({ name: 'bench-curl', ...described });
        const { uploadUrl } = dataset.status.source;
        const headers = Object.entries(uploadHeaders(uploadUrl.headers, described)).flatMap(([name, value]) => [
          '-H',
          `${name}: ${value}`,
        ]);
        const run = check(
          await measure('curl', [
            '-sS',
            '-f',
            '-X',
            uploadUrl.method,
            '-T',
            file,
            ...headers,
            '-o',
            '/dev/null',
            uploadUrl.url,
          ]),
          'curl',
        );
        return figures(run.wallS, run.peakRssMiB, run.cpuS);
      },
    };
    const createWith = (name: string, bin: string) => ({
      name,
      async run() {
        const run = check(
          await measure(
            process.execPath,
            [bin, 'datasets', 'create', file, '--name', 'bench-cli', '--no-wait', '--json'],
            {
              env: emulator.env,
              cwd: ROOT,
            },
          ),
          'datasets create',
        );
        return figures(run.wallS, run.peakRssMiB, run.cpuS);
      },
    });
    const create = createWith(
      '`datature-batch datasets create --no-wait` (installed: the build)',
      installed?.bin ?? cli,
    );
    const fromSources = createWith('the same from this checkout (sources through tsx)', cli);
    const stages = {
      name: 'the same calls, timed by stage inside one process',
      async run() {
        const run = check(
          await measure(
            process.execPath,
            ['-r', 'tsx/cjs', join(__dirname, 'support', 'create-stages-child.ts'), file],
            { env: emulator.env, cwd: ROOT },
          ),
          'create stages',
        );
        const stage = JSON.parse(run.stdout) as Record<string, number>;
        return { ...figures(run.wallS, run.peakRssMiB, run.cpuS), ...stage };
      },
    };
    /** Untimed: every dataset processed, then deleted, so the next run has the machine to itself. */
    const betweenRuns = async () => {
      for await (const dataset of datatureApi.datasets.list({ showExpired: true })) {
        if (dataset.status.overview === 'Processing' || dataset.status.overview === 'Uploading') {
          await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 200, timeoutMs: 600_000 }).catch(() => {});
        }
        await datatureApi.datasets.delete(dataset.id);
      }
    };
    await runBench({
      title: 'upload: datasets create vs curl',
      setup: `${(size / MIB).toFixed(0)} MiB NDJSON (${described.itemCount.toLocaleString('en')} items), emulator in its own process on loopback, client and curl measured as processes`,
      rounds: ROUNDS,
      baseline: curl,
      variants: installed ? [create, fromSources, stages] : [create, stages],
      betweenRuns,
      columns: [
        { key: 'mbps', label: 'MB/s', ratio: true },
        { key: 'wallS', label: 'wall s', digits: 2 },
        { key: 'peakRssMiB', label: 'peak RSS MiB', digits: 0 },
        { key: 'cpuS', label: 'CPU s', digits: 2 },
        { key: 'startS', label: 'node start s', digits: 2 },
        { key: 'loadS', label: 'load client s', digits: 2 },
        { key: 'validateS', label: 'pass s', digits: 2 },
        { key: 'postS', label: 'POST s', digits: 2 },
        { key: 'uploadS', label: 'PUT s', digits: 2 },
        { key: 'validatedPeakMiB', label: 'RSS after pass MiB', digits: 0 },
      ],
      notes: (medians) => {
        const ratio = (medians.get(create.name)!.mbps as number) / (medians.get(curl.name)!.mbps as number);
        const rss = medians.get(create.name)!.peakRssMiB as number;
        const curlS = medians.get(curl.name)!.wallS as number;
        const stage = medians.get(stages.name)!;
        const [start, load, pass, post, put] = ['startS', 'loadS', 'validateS', 'postS', 'uploadS'].map(
          (key) => stage[key] as number,
        );
        // The pass must end before the POST (which needs the CRC32C) and the PUT (which needs the POST's URL).
        const fixed = start + load + post + put;
        const passBudget = curlS / GOAL_RATIO - fixed;
        return [
          `goal: datasets create >= ${GOAL_RATIO}x curl (${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}: x${ratio.toFixed(2)}), peak RSS < ${GOAL_RSS_MIB} MiB (${rss < GOAL_RSS_MIB ? 'met' : 'NOT met'}: ${rss.toFixed(0)} MiB)`,
          `stages (medians): node start ${start.toFixed(2)} s + load ${load.toFixed(2)} s + pass ${pass.toFixed(2)} s (${(mb / pass).toFixed(0)} MB/s) + POST ${post.toFixed(2)} s + PUT ${put.toFixed(2)} s, against curl's ${curlS.toFixed(2)} s. ` +
            (passBudget > 0
              ? `${GOAL_RATIO}x needs the pass within ${passBudget.toFixed(2)} s (${(mb / passBudget).toFixed(0)} MB/s).`
              : `Even a free pass gives at most x${(curlS / fixed).toFixed(2)}: the start, load and PUT alone exceed curl / ${GOAL_RATIO} = ${(curlS / GOAL_RATIO).toFixed(2)} s.`),
        ];
      },
    });

    const pass = (mode: 'path' | 'stream') => ({
      name:
        mode === 'path' ? 'validateNdjson(file path)' : 'validateNdjson(stream factory), as a shard or a URL is read',
      async run() {
        const run = check(
          await measure(
            process.execPath,
            ['-r', 'tsx/cjs', join(__dirname, 'support', 'validate-child.ts'), file, mode],
            {
              cwd: ROOT,
            },
          ),
          'validate',
        );
        const { seconds } = JSON.parse(run.stdout) as { seconds: number };
        return { mbps: mb / seconds, seconds, peakRssMiB: run.peakRssMiB };
      },
    });
    await runBench({
      title: 'upload: the validation + CRC32C pass',
      setup: `the same ${(size / MIB).toFixed(0)} MiB file, page-cached, each pass in its own process`,
      rounds: ROUNDS,
      baseline: pass('path'),
      variants: [pass('stream')],
      columns: [
        { key: 'mbps', label: 'MB/s', ratio: true },
        { key: 'seconds', label: 's', digits: 2 },
        { key: 'peakRssMiB', label: 'peak RSS MiB (process)', digits: 0 },
      ],
      notes: (medians) => {
        const speed = medians.get(pass('path').name)!.mbps as number;
        return [`goal: >= 1000 MB/s (${speed >= 1000 ? 'met' : 'NOT met'}: ${speed.toFixed(0)} MB/s from a path)`];
      },
    });
  } finally {
    installed?.remove();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(module, main);

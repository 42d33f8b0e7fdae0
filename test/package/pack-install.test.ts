// The package as another service gets it: `npm pack` (which builds dist/), the tarball installed into an empty
// project, a caller written against `datature-batch-worker/client` type-checked with tsc, then run against the
// dev stack with a worker started by the installed CLI (the build, not the sources: the tarball has none).
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { type E2eStack, spawnWorkerProcess, startE2eStack, stopProcess } from '../e2e/harness';

const run = promisify(execFile);
const repoRoot = resolve(__dirname, '..', '..');
const taskQueue = 'package-caller';

let stack: E2eStack;
let scratch: string;
let worker: ChildProcess | undefined;

/** Written by the caller's author: typed imports from the package's `./client` only. */
const callerSource = `
import { Client, Connection } from '@temporalio/client';
import {
  type BatchPredictionInput,
  type BatchPredictionResult,
  datatureBatchService,
  getProgress,
  startBatchPrediction,
} from 'datature-batch-worker/client';

// The types are real, not \`any\`: a wrong field is a compile error.
// @ts-expect-error jobId is a string
const wrong: BatchPredictionInput = { job: { jobId: 42 } };
void wrong;

async function main(): Promise<void> {
  const [address, taskQueue, inputJson] = process.argv.slice(2);
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const input: BatchPredictionInput = JSON.parse(inputJson);
    const handle = await startBatchPrediction(client, input, { taskQueue });
    await getProgress(handle).catch(() => undefined);
    const result: BatchPredictionResult = await handle.result();
    const heavy = Object.keys(require.cache).filter((path) =>
      /node_modules[\\\\/](@temporalio[\\\\/](worker|core-bridge)|better-sqlite3)[\\\\/]/.test(path),
    );
    console.log(JSON.stringify({ result, nexusService: datatureBatchService.name, heavy }));
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

/** A caller's workflow code imports the Nexus contract from `./nexus`, which must bundle (no Node modules). */
const callerWorkflowsSource = `
import { createNexusServiceClient } from '@temporalio/workflow';
import { datatureBatchService } from 'datature-batch-worker/nexus';

export async function viaNexus(): Promise<string | undefined> {
  const datatureBatch = createNexusServiceClient({ service: datatureBatchService, endpoint: 'datature-batch' });
  const result = await datatureBatch.executeOperation('runBatchPrediction', { input: { job: { jobId: 'job_1' } } });
  return result.jobId;
}
`;

const callerTsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'node16',
    moduleResolution: 'node16',
    strict: true,
    outDir: 'out',
    // The caller's own @types/node would do; this project has one to lend.
    typeRoots: [join(repoRoot, 'node_modules', '@types')],
    types: ['node'],
    // As Temporal's samples do: the SDK's own declarations want @types/ms. Ours are checked through their use.
    skipLibCheck: true,
  },
  files: ['caller.ts', 'caller-workflows.ts'],
};

async function packAndInstall(dir: string): Promise<void> {
  // `prepack` builds dist/; --json names the tarball.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
  const project = join(dir, 'caller');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'caller', private: true }));
  // From npm's cache where it can. No install scripts: the client must not need a native build (better-sqlite3).
  await run(
    'npm',
    ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, filename)],
    { cwd: project, maxBuffer: 16 * 1024 * 1024 },
  );
  writeFileSync(join(project, 'caller.ts'), callerSource);
  writeFileSync(join(project, 'caller-workflows.ts'), callerWorkflowsSource);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(callerTsconfig, null, 2));
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'batch-package-'));
  [stack] = await Promise.all([startE2eStack(), packAndInstall(scratch)]);
}, 300_000);

afterAll(async () => {
  if (worker) await stopProcess(worker);
  await stack?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('an installed tarball: a caller type-checks against ./client and awaits a run served by the installed CLI worker', async () => {
  const project = join(scratch, 'caller');
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-p', project]).catch((err: { stdout?: string }) => {
    throw new Error(`the caller does not type-check:\n${err.stdout}`);
  });

  const cli = join(project, 'node_modules', 'datature-batch-worker', 'bin', 'datature-batch.js');
  worker = spawnWorkerProcess(stack, taskQueue, {}, [cli, 'worker']);
  const input = {
    dataset: { ndjsonPath: stack.writeDataset('five.ndjson', 5) },
    job: { deploymentId: stack.emulator.deploymentId, webhookIds: [stack.webhookId] },
    polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
  };
  const { stdout } = await run(
    process.execPath,
    [join(project, 'out', 'caller.js'), stack.env.address, taskQueue, JSON.stringify(input)],
    { cwd: project, timeout: 120_000 },
  );
  const output = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(output.result.outcome).toBe('completed');
  expect(output.nexusService).toBe('datatureBatch');
  expect(output.heavy).toEqual([]);
}, 240_000);

test("a caller's workflow importing the Nexus contract from ./nexus bundles", async () => {
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(scratch, 'caller', 'caller-workflows.ts'),
    logger: new DefaultLogger('WARN'),
  });
  expect(code).toContain('datatureBatch');
});

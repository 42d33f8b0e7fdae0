// The real stack of the end-to-end tests, all on loopback: the Temporal dev server (search attributes
// registered), the emulator with admin routes, a static file server for the sample images, the receiver
// with a webhook pointing to it, a second one serving the test's own files (dataset sources given as
// `ndjsonUrl`), and worker processes spawned like production ones.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { request } from 'undici';
import {
  type CodecKey,
  type CodecServer,
  codecDataConverter,
  EncryptionCodec,
  startCodecServer,
} from '../../src/codec';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { temporalCliPath } from '../../src/dev/binaries';
import { findFreePort } from '../../src/dev/free-port';
import { type StaticFileServer, startStaticFileServer } from '../../src/dev/static-file-server';
import {
  DEV_DEPLOYMENT_ID,
  DEV_PROJECT_ID,
  DEV_SECRET_KEY,
  type RunningEmulator,
  startEmulator,
} from '../../src/emulator';
import { type Receiver, startReceiver } from '../../src/receiver';
import { type BatchPredictionHandle, getProgress } from '../../src/run-client';
import { createWorker, workflowBundlePath } from '../../src/worker';
import { BATCH_SEARCH_ATTRIBUTES, type BatchPhase } from '../../src/workflows/definitions';

const repoRoot = resolve(__dirname, '..', '..');
/** A deployment of the e2e project that exists but cannot serve: the emulator fails every job on it. */
export const ERRORED_DEPLOYMENT_ID = 'deploy_00000000-0000-4000-8000-0000000e4404';
/** A second deployment that serves (the sharding suite spreads shards over it and the first). */
export const SECOND_DEPLOYMENT_ID = 'deploy_00000000-0000-4000-8000-000000000002';
const imagesDir = join(repoRoot, 'samples', 'images');

export interface E2eStack {
  env: TestWorkflowEnvironment;
  /** The dev server's Web UI, when started with `{ webUi: true }`. */
  webUiUrl?: string;
  /** With `{ codec: keys }`: the data converter of the test's client and workers, and the UI's codec server. */
  dataConverter?: DataConverter;
  codecServer?: CodecServer;
  /** How many payloads the codec server has decoded (the Web UI's calls). */
  codecDecodes(): number;
  emulator: RunningEmulator;
  files: StaticFileServer;
  /** Serves `dir` (the files `writeDataset` writes) over loopback. */
  sources: StaticFileServer;
  receiver: Receiver;
  datatureApi: DatatureClient;
  webhookId: string;
  dir: string;
  /** Writes an NDJSON file of `count` sample image items; returns its path. */
  writeDataset(name: string, count: number): string;
  /** The loopback URL of a file in `dir` (whether or not it exists). */
  sourceUrl(name: string): string;
  emulatorState(): Promise<EmulatorState>;
  setFaults(faults: unknown): Promise<void>;
  /** `GET /_emulator/faults`: the fault set with the rules already spent removed. */
  faults(): Promise<{ routes: unknown[] }>;
  close(): Promise<void>;
}

export interface EmulatorState {
  datasets: number;
  jobs: number;
  [key: string]: unknown;
}

export interface E2eStackOptions {
  webUi?: boolean;
  /** Namespaces the dev server creates besides `default` (e.g. a Nexus caller's). */
  extraNamespaces?: string[];
  /** Payload encryption with these keys (the first encrypts); with `webUi`, the UI decodes through a codec server. */
  codec?: CodecKey[];
}

export async function startE2eStack(options: E2eStackOptions = {}): Promise<E2eStack> {
  const dir = mkdtempSync(join(tmpdir(), 'batch-e2e-'));
  const uiPort = options.webUi ? await findFreePort() : undefined;
  const namespaceArgs = (options.extraNamespaces ?? []).flatMap((namespace) => ['--namespace', namespace]);
  const dataConverter = options.codec ? codecDataConverter({ keys: options.codec }) : undefined;
  let decodes = 0;
  const codecServer =
    options.codec && uiPort
      ? await startCodecServer({
          codec: countingDecodes(new EncryptionCodec(options.codec), (count) => {
            decodes += count;
          }),
          corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
        })
      : undefined;
  // The bundle is cached on disk for the worker processes this suite spawns.
  const [env, emulator, files] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        ip: '127.0.0.1',
        searchAttributes: BATCH_SEARCH_ATTRIBUTES,
        extraArgs: [
          ...namespaceArgs,
          ...(uiPort ? ['--ui-disable-news-fetch'] : []),
          ...(codecServer ? ['--ui-codec-endpoint', codecServer.url] : []),
        ],
        ...(uiPort ? { ui: true, uiPort } : {}),
      },
      ...(dataConverter ? { client: { dataConverter } } : {}),
    }),
    startEmulator({
      port: 0,
      host: '127.0.0.1',
      adminRoutes: true,
      tickIntervalMs: 20,
      projects: [
        {
          id: DEV_PROJECT_ID,
          secretKey: DEV_SECRET_KEY,
          deployments: [
            { id: DEV_DEPLOYMENT_ID, replicas: 4, overview: 'Available' },
            { id: SECOND_DEPLOYMENT_ID, replicas: 4, overview: 'Available' },
            { id: ERRORED_DEPLOYMENT_ID, replicas: 1, overview: 'Errored' },
          ],
        },
      ],
    }),
    startStaticFileServer({ root: imagesDir, port: 0 }),
    workflowBundlePath({ failureConverterPath: dataConverter?.failureConverterPath }),
  ]);
  const sources = await startStaticFileServer({ root: dir, port: 0 });
  const secret = generateWebhookSecret();
  const receiver = await startReceiver({ port: 0, secrets: [secret], outFile: join(dir, 'predictions.ndjson') });
  const datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  const webhookId = (await datatureApi.webhooks.create({ name: 'e2e-receiver', endpoint: receiver.url, secret })).id;
  const images = readdirSync(imagesDir).filter((name) => name.endsWith('.png'));

  const admin = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await request(`${emulator.url}/_emulator/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.body.json();
  };

  return {
    env,
    webUiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
    dataConverter,
    codecServer,
    codecDecodes: () => decodes,
    emulator,
    files,
    sources,
    receiver,
    datatureApi,
    webhookId,
    dir,
    writeDataset(name, count) {
      const path = join(dir, name);
      const lines = Array.from({ length: count }, (_, i) =>
        JSON.stringify({ kind: 'Image', url: `${files.url}/${images[i % images.length]}?n=${i}` }),
      );
      writeFileSync(path, lines.join('\n') + '\n');
      return path;
    },
    sourceUrl: (name) => `${sources.url}/${encodeURIComponent(name)}`,
    emulatorState: async () => {
      const state = (await admin('GET', 'state')) as Record<string, unknown>;
      return { ...state, datasets: countOf(state.datasets), jobs: countOf(state.jobs) };
    },
    setFaults: async (faults) => {
      await admin('POST', 'faults', faults);
    },
    faults: async () => (await admin('GET', 'faults')) as { routes: unknown[] },
    async close() {
      await Promise.allSettled([
        receiver.close(),
        files.close(),
        sources.close(),
        emulator.close(),
        codecServer?.close(),
      ]);
      await env.teardown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function countingDecodes(codec: EncryptionCodec, onDecode: (count: number) => void): EncryptionCodec {
  const decode = codec.decode.bind(codec);
  codec.decode = async (payloads) => {
    onDecode(payloads.length);
    return decode(payloads);
  };
  return codec;
}

function countOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'number') return value;
  return Number.NaN;
}

/**
 * A worker as its own OS process (by default `node -r tsx/cjs src/worker.ts`; `nodeArgs` runs another entry,
 * e.g. an installed package's CLI), so a test can `kill -9` it.
 */
export function spawnWorkerProcess(
  stack: E2eStack,
  taskQueue: string,
  extraEnv: Record<string, string> = {},
  nodeArgs = ['-r', 'tsx/cjs', join(repoRoot, 'src', 'worker.ts')],
): ChildProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // .ci/run finds what the suite left running by this marker: pass it on to a hand-built env.
      BATCH_TEST_RUN_MARKER: process.env.BATCH_TEST_RUN_MARKER,
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATATURE_SECRET_KEY: stack.emulator.secretKey,
      DATATURE_PROJECT_ID: stack.emulator.projectId,
      DATATURE_API_BASE_URL: stack.emulator.url,
      DATATURE_LOGS_DIR: join(stack.dir, 'logs'),
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => {});
  return child;
}

/** Polls the run's progress query; the default leaves a slow machine room to restart a killed worker. */
export async function untilPhase(handle: BatchPredictionHandle, phase: BatchPhase, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await getProgress(handle).catch(() => undefined);
    if (progress?.phase === phase) return progress;
    if (Date.now() > deadline) throw new Error(`still ${progress?.phase} after ${timeoutMs} ms, wanted ${phase}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill(signal);
  await exited;
}

/** The stack and an in-process worker on `taskQueue`, both filled in once the file's beforeAll has run. */
export interface StackWithWorker {
  stack: E2eStack;
  worker: Worker;
}

/**
 * Starts the stack and one in-process worker on `taskQueue` before the file's tests, and stops both (clearing
 * any fault) after them: the setup most e2e files share.
 */
export function useStackWithWorker(taskQueue: string, options: E2eStackOptions = {}): StackWithWorker {
  const suite = {} as StackWithWorker;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    suite.stack = await startE2eStack(options);
    suite.worker = await createWorker({
      connection: suite.stack.env.nativeConnection,
      namespace: suite.stack.env.namespace,
      taskQueue,
      datature: {
        secretKey: suite.stack.emulator.secretKey,
        projectId: suite.stack.emulator.projectId,
        baseUrl: suite.stack.emulator.url,
      },
      logsDir: join(suite.stack.dir, 'logs'),
      dataConverter: suite.stack.dataConverter,
    });
    running = suite.worker.run();
  }, 120_000);
  afterAll(async () => {
    await suite.stack?.setFaults({});
    suite.worker?.shutdown();
    await running;
    await suite.stack?.close();
  });
  return suite;
}

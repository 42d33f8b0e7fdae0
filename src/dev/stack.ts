import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from '../workflows/definitions';
import { findFreePort } from './free-port';
import { DEV_CALLER_NAMESPACE, DEV_NEXUS_ENDPOINT, ensureNexusEndpointAt } from './nexus-endpoint';
import {
  processAlive,
  readStackState,
  removeStackState,
  type StackState,
  tcpReachable,
  writeStackState,
} from './stack-state';
import { startStaticFileServer } from './static-file-server';
import { signalGroup, startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server';

const repoRoot = resolve(__dirname, '..', '..');

export interface StackOptions {
  /** Where the sqlite files, the state file and the predictions go. Default `<repo>/.data`. */
  dataDir?: string;
  /** Directory the file server serves. Default `<repo>/samples/images`. */
  filesDir?: string;
  /** 0 or absent: a free port. */
  temporalPort?: number;
  uiPort?: number;
  emulatorPort?: number;
  fileServerPort?: number;
  receiverPort?: number;
  /** The in-process worker's Prometheus endpoint on 127.0.0.1; 0 or absent: a free port. */
  metricsPort?: number;
  namespace?: string;
  taskQueue?: string;
  /**
   * Payload encryption (docs/codec.md): a key file in the data dir (made when absent), the worker and the
   * receiver's client encrypt with it, a codec server on `codecPort` and the Web UI pointed at it. Default off.
   */
  codec?: boolean;
  /** 0 or absent: a free port. */
  codecPort?: number;
  /** Run a worker in this process. Default true; false lets you run `datature-batch worker` yourself. */
  worker?: boolean;
  /**
   * Publish this stack for other runs to attach to (default true). A stack that ends with its command
   * (the demo) is not shared: a second run on the same data dir is told to wait instead.
   */
  shareable?: boolean;
  /** Stop everything on SIGINT/SIGTERM and exit. Default true. */
  handleSignals?: boolean;
  log?: (message: string) => void;
}

export interface Stack extends StackState {
  /** True when this process attached to a stack started by another one (`close()` then stops nothing). */
  reused: boolean;
  /** The emulator's documented dev key (not a real secret, but still never printed). */
  secretKey: string;
  stateFile: string;
  close(): Promise<void>;
}

/**
 * Starts (or reuses) the local stack the demo and `dev` run on: the Temporal dev server with its Web UI,
 * the emulator persisted in the data dir, a static file server for the sample images, the webhook
 * receiver and a worker, all on loopback.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = resolve(options.dataDir ?? join(repoRoot, '.data'));
  mkdirSync(dataDir, { recursive: true });
  const stateFile = join(dataDir, 'stack.json');
  const log = options.log ?? (() => {});
  const running = await findRunningStack(stateFile);
  if (running) {
    log(`reusing the stack of pid ${running.ownerPid} (${stateFile})`);
    return { ...running, reused: true, secretKey: devSecretKey(), stateFile, close: async () => {} };
  }
  return startOwnStack(options, dataDir, stateFile, log);
}

async function findRunningStack(stateFile: string): Promise<StackState | undefined> {
  const state = readStackState(stateFile);
  if (!state) return undefined;
  if (!processAlive(state.ownerPid) || state.ownerPid === process.pid) return undefined;
  if (!state.shareable) {
    throw new Error(
      `pid ${state.ownerPid} runs a stack in ${dirname(stateFile)} that stops when its command ends; ` +
        'wait for it, or use another --data-dir',
    );
  }
  const answering = (await tcpReachable(state.temporalAddress)) && (await tcpReachable(state.emulatorUrl));
  if (!answering) {
    throw new Error(
      `the stack of pid ${state.ownerPid} (${stateFile}) is not answering; stop that process or delete the file`,
    );
  }
  return state;
}

async function startOwnStack(
  options: StackOptions,
  dataDir: string,
  stateFile: string,
  log: (message: string) => void,
): Promise<Stack> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const stoppers: (() => Promise<void>)[] = [];
  let temporal: TemporalDevServer | undefined;
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
    stoppers.length = 0;
  };
  const killTemporalOnExit = () => {
    if (temporal) signalGroup(temporal.pid, 'SIGKILL');
  };
  process.once('exit', killTemporalOnExit);
  const port = options.temporalPort || (await findFreePort());
  const uiPort = options.uiPort || (await findFreePort());
  // The codec server starts first: the Web UI is told its URL when it starts.
  const codec = options.codec ? await startCodecInProcess(dataDir, uiPort, options.codecPort) : undefined;
  if (codec) stoppers.push(() => codec.server.close());
  const temporalStart = (async () => {
    log(`starting the Temporal dev server on 127.0.0.1:${port} (UI ${uiPort})`);
    temporal = await startTemporalDevServer({
      port,
      uiPort,
      namespace,
      extraNamespaces: [DEV_CALLER_NAMESPACE],
      dbFilename: join(dataDir, 'temporal.db'),
      searchAttributes: searchAttributeFlags(),
      uiCodecEndpoint: codec?.server.url,
    });
    stoppers.push(() => temporal!.stop());
    return temporal;
  })();
  // Awaited below, after the in-process servers; until then a failed start must not count as unhandled.
  temporalStart.catch(() => {});
  try {
    const emulator = await startEmulatorInProcess(dataDir, options.emulatorPort);
    stoppers.push(() => emulator.close());
    const files = await startStaticFileServer({
      root: options.filesDir ?? join(repoRoot, 'samples', 'images'),
      port: options.fileServerPort,
    });
    stoppers.push(() => files.close());
    const webhookSecretFile = ensureWebhookSecretFile(dataDir);
    const predictionsFile = join(dataDir, 'predictions.ndjson');
    // The receiver signals `checkNow` to a run whose every item it holds, through the stack's own server.
    const { checkNowNotifier } = require('../run-client') as typeof import('../run-client');
    const notifier = checkNowNotifier(async () => {
      const { Client, Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
      const connection = await Connection.connect({ address: (await temporalStart).address });
      return {
        client: new Client({ connection, namespace, dataConverter: codec?.dataConverter }),
        close: () => connection.close(),
      };
    });
    stoppers.push(() => notifier.close());
    const receiver = await startReceiverInProcess(webhookSecretFile, predictionsFile, options.receiverPort, notifier);
    stoppers.push(() => receiver.close());
    const server = await temporalStart;
    const nexus = { endpoint: DEV_NEXUS_ENDPOINT, callerNamespace: DEV_CALLER_NAMESPACE };
    await ensureNexusEndpointAt(server.address, { name: nexus.endpoint, namespace, taskQueue });
    let metricsUrl: string | undefined;
    if (options.worker ?? true) {
      metricsUrl = quietWorkerRuntime(options.metricsPort || (await findFreePort()));
      const stopWorker = await startWorkerInProcess({
        address: server.address,
        namespace,
        taskQueue,
        datature: { baseUrl: emulator.url, projectId: emulator.projectId, secretKey: emulator.secretKey },
        logsDir: join(dataDir, 'logs'),
        dataConverter: codec?.dataConverter,
      });
      stoppers.push(stopWorker);
    }
    const state: StackState = {
      ownerPid: process.pid,
      pids: [process.pid, server.pid],
      temporalAddress: server.address,
      namespace,
      taskQueue,
      uiUrl: server.uiUrl,
      emulatorUrl: emulator.url,
      projectId: emulator.projectId,
      fileServerUrl: files.url,
      receiverUrl: receiver.url,
      predictionsFile,
      webhookSecretFile,
      shareable: options.shareable ?? true,
      startedAt: new Date().toISOString(),
      ...(metricsUrl ? { metricsUrl } : {}),
      nexus,
      ...(codec ? { codecEndpoint: codec.server.url, codecKeysFile: codec.keysFile } : {}),
    };
    writeStackState(stateFile, state);
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        removeSignalHandlers();
        removeStackState(stateFile, process.pid);
        await stopAll();
        process.removeListener('exit', killTemporalOnExit);
      })();
      return closing;
    };
    const removeSignalHandlers = options.handleSignals === false ? () => {} : exitOnSignals(close, log);
    return { ...state, reused: false, secretKey: emulator.secretKey, stateFile, close };
  } catch (err) {
    await temporalStart.catch(() => {}); // so its stopper is registered before everything stops
    await stopAll();
    process.removeListener('exit', killTemporalOnExit);
    throw err;
  }
}

/** Ctrl-C / SIGTERM: stop everything, then exit 130 / 143 as shells expect. */
function exitOnSignals(close: () => Promise<void>, log: (message: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the stack`);
    void close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}

/** `Name=Type` flags registering the workflow's search attributes when the dev server starts. */
function searchAttributeFlags(): string[] {
  const { BATCH_SEARCH_ATTRIBUTES } = require('../workflows/definitions') as typeof import('../workflows/definitions');
  const { TypedSearchAttributes } = require('@temporalio/common') as typeof import('@temporalio/common');
  return BATCH_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`);
}

function devSecretKey(): string {
  return (require('../emulator') as typeof import('../emulator')).DEV_SECRET_KEY;
}

/** The stack's key file (made on first use, mode 600) and a codec server the Web UI at `uiPort` may call. */
async function startCodecInProcess(dataDir: string, uiPort: number, codecPort = 0) {
  const { addCodecKey, codecDataConverter, loadCodecKeys, EncryptionCodec, startCodecServer } =
    require('../codec') as typeof import('../codec');
  const keysFile = join(dataDir, 'codec-keys.json');
  if (!existsSync(keysFile)) addCodecKey(keysFile);
  const keys = loadCodecKeys(keysFile);
  const server = await startCodecServer({
    codec: new EncryptionCodec(keys),
    host: '127.0.0.1',
    port: codecPort,
    corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
  });
  return { keysFile, server, dataConverter: codecDataConverter({ keys }) };
}

async function startEmulatorInProcess(dataDir: string, port = 0) {
  const { startEmulator } = require('../emulator') as typeof import('../emulator');
  return startEmulator({ host: '127.0.0.1', port, dbPath: join(dataDir, 'emulator.db'), adminRoutes: true });
}

/** The receiver and the webhook the demo creates share this secret file (mode 600, never printed). */
function ensureWebhookSecretFile(dataDir: string): string {
  const path = join(dataDir, 'webhook.secret');
  if (!existsSync(path)) {
    const { generateWebhookSecret } = require('../datature-api') as typeof import('../datature-api');
    writeFileSync(path, generateWebhookSecret() + '\n', { mode: 0o600 });
  }
  return path;
}

async function startReceiverInProcess(
  secretFile: string,
  outFile: string,
  port: number | undefined,
  notifier: { onJobComplete(watch: { workflowId: string }): Promise<void> },
) {
  const { startReceiver } = require('../receiver') as typeof import('../receiver');
  return startReceiver({
    host: '127.0.0.1',
    port: port ?? 0,
    secretFile,
    outFile,
    onJobComplete: notifier.onJobComplete,
  });
}

/** Runs a worker until the returned stop function has shut it down (in-flight activities get cancelled). */
async function startWorkerInProcess(config: Parameters<typeof import('../worker').createWorker>[0]) {
  const { createWorker } = require('../worker') as typeof import('../worker');
  const worker = await createWorker(config);
  const running = worker.run();
  return async () => {
    // The SDK runtime may already be shutting it down on the same Ctrl-C.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  };
}

/**
 * The SDK runtime logs every worker state change at INFO on stderr, which would bury the demo's output;
 * warnings still show. Its own signal handlers are off: the stack stops the worker on Ctrl-C itself.
 * It serves the worker's Prometheus metrics on loopback; returns their URL. A runtime someone installed
 * earlier in this process is left as it is (and then no metrics URL is known).
 */
function quietWorkerRuntime(metricsPort: number): string | undefined {
  const { DefaultLogger } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  const { installWorkerRuntime } = require('../telemetry') as typeof import('../telemetry');
  try {
    return installWorkerRuntime({
      logger: new DefaultLogger('WARN'),
      shutdownSignals: [],
      metricsAddress: `127.0.0.1:${metricsPort}`,
    }).metricsUrl;
  } catch {
    return undefined; // Already installed.
  }
}

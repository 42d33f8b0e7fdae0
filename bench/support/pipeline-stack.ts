// What the pipeline and scale benches run on, all on loopback: a Temporal dev server, the emulator in its
// own process, one HTTP server playing the image host (any GET: a small PNG) and the webhook endpoint
// (any POST: 204), a webhook, and `datature-batch worker` processes whose peak RSS and CPU are watched.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypedSearchAttributes } from '@temporalio/common';
import { DatatureClient, generateWebhookSecret } from '../../src/datature-api';
import { findFreePort } from '../../src/dev/free-port';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/dev/temporal-dev-server';
import type { EmulatorOptions } from '../../src/emulator';
import { BATCH_SEARCH_ATTRIBUTES, DEFAULT_NAMESPACE } from '../../src/workflows/definitions';
import { CLI, type EmulatorProcess, ROOT, startEmulatorProcess } from './processes';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(256)]);

export interface WatchedWorker {
  child: ChildProcess;
  /** Stops the worker and returns its peak RSS (MiB) and CPU seconds over its life. */
  stop(): Promise<{ peakRssMiB: number; cpuS: number }>;
}

export interface PipelineStack {
  dir: string;
  temporal: TemporalDevServer;
  emulator: EmulatorProcess;
  datatureApi: DatatureClient;
  webhookId: string;
  /** Base URL of the image host. */
  images: string;
  /** Env for the CLI and workers: Temporal and the emulator. */
  env: NodeJS.ProcessEnv;
  /** An NDJSON file of `count` items in the stack's folder. */
  writeItems(name: string, count: number): string;
  startWorker(name: string): Promise<WatchedWorker>;
  close(): Promise<void>;
}

/** Samples /proc every 200 ms: VmHWM is the kernel's own peak, so a late reading loses nothing but the end. */
function watch(child: ChildProcess): () => { peakRssMiB: number; cpuS: number } {
  let peakKiB = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    try {
      peakKiB = Math.max(
        peakKiB,
        Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]),
      );
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks = Number(fields[11]) + Number(fields[12]);
    } catch {
      // Exited.
    }
  }, 200);
  return () => {
    clearInterval(timer);
    return { peakRssMiB: peakKiB / 1024, cpuS: ticks / 100 };
  };
}

/** A Temporal dev server on free ports with its database in `dir` and the pipeline's search attributes. */
export async function startBenchTemporal(dir: string): Promise<TemporalDevServer> {
  return startTemporalDevServer({
    port: await findFreePort(),
    uiPort: await findFreePort(),
    namespace: DEFAULT_NAMESPACE,
    dbFilename: join(dir, 'temporal.db'),
    searchAttributes: BATCH_SEARCH_ATTRIBUTES.map(
      (key) => `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`,
    ),
  });
}

export async function startPipelineStack(emulatorOptions: EmulatorOptions): Promise<PipelineStack> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  const server = createServer((req, res) => {
    req.resume();
    if (req.method === 'GET') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else req.on('end', () => res.writeHead(204).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const images = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const temporal = await startBenchTemporal(dir);
  const emulator = await startEmulatorProcess(join(dir, 'emulator.db'), emulatorOptions);
  const datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  const webhookId = (
    await datatureApi.webhooks.create({
      name: 'bench-sink',
      endpoint: `${images}/hook`,
      secret: generateWebhookSecret(),
    })
  ).id;
  const env = {
    ...emulator.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: DEFAULT_NAMESPACE,
    DATATURE_LOGS_DIR: join(dir, 'logs'),
  };
  const workers: WatchedWorker[] = [];
  return {
    dir,
    temporal,
    emulator,
    datatureApi,
    webhookId,
    images,
    env,
    writeItems(name, count) {
      const path = join(dir, name);
      const lines = Array.from({ length: count }, (_, i) => `{"kind":"Image","url":"${images}/${name}/${i}.png"}\n`);
      writeFileSync(path, lines.join(''));
      return path;
    },
    async startWorker(name) {
      const child = spawn(process.execPath, [CLI, 'worker'], { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
        stderr = stderr.slice(-4000);
      });
      // The worker says so on stderr once it polls.
      await new Promise<void>((resolve, reject) => {
        const check = () => (stderr.includes('worker polling') ? resolve() : undefined);
        child.stderr!.on('data', check);
        child.once('exit', (code) => reject(new Error(`worker ${name} exited ${code}: ${stderr}`)));
      });
      const stopWatch = watch(child);
      const worker: WatchedWorker = {
        child,
        async stop() {
          const figures = stopWatch();
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await once(child, 'exit');
          }
          return figures;
        },
      };
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const worker of workers) await worker.stop().catch(() => {});
      await emulator.stop();
      await temporal.stop();
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

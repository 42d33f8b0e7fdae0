import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { temporalCliPath } from './binaries';

export interface TemporalDevServerOptions {
  port: number;
  uiPort: number;
  dbFilename: string;
  /** `Name=Type` pairs registered at start, e.g. `BatchJobId=Keyword`. */
  searchAttributes: string[];
  namespace: string;
  /** More namespaces to create (e.g. a Nexus caller's). */
  extraNamespaces?: string[];
  /** The Web UI's remote codec endpoint (`--ui-codec-endpoint`): the browser decodes payloads through it. */
  uiCodecEndpoint?: string;
  startTimeoutMs?: number;
}

export interface TemporalDevServer {
  address: string;
  uiUrl: string;
  /** Leader of the server's process group (the watchdog shell). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * The shell runs the server and a watchdog that kills it when our stdin pipe closes, i.e. when this
 * process dies in any way (even SIGKILL), so the dev server never outlives us.
 */
const dieWithParent = 'exec 3<&0; "$@" & child=$!; (read -r _ <&3; kill $child 2>/dev/null) & wait $child';

/** Starts `temporal server start-dev` in its own process group and waits until its frontend answers. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    options.dbFilename,
    ...[options.namespace, ...(options.extraNamespaces ?? [])].flatMap((namespace) => ['--namespace', namespace]),
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    ...options.searchAttributes.flatMap((pair) => ['--search-attribute', pair]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ];
  const child = spawn('/bin/sh', ['-c', dieWithParent, 'temporal-dev-server', temporalCliPath(), ...args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  const address = `127.0.0.1:${options.port}`;
  const server: TemporalDevServer = {
    address,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    pid: child.pid!,
    stop: () => killProcessGroup(child),
  };
  try {
    await waitUntilHealthy(address, child, () => stderrTail, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function waitUntilHealthy(
  address: string,
  child: ChildProcess,
  stderrTail: () => string,
  timeoutMs: number,
): Promise<void> {
  const { Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`temporal dev server exited during start: ${lastLine(stderrTail())}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(`temporal dev server not healthy after ${timeoutMs} ms: ${(err as Error).message}`);
      }
      await sleep(200);
    }
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() || '(no output)';
}

/** SIGTERM to the whole group (the server flushes its sqlite file), SIGKILL what is left after a grace period. */
async function killProcessGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const groupLeaderPid = child.pid!;
  signalGroup(groupLeaderPid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(groupLeaderPid) && Date.now() < deadline) await sleep(50);
  signalGroup(groupLeaderPid, 'SIGKILL');
}

export function signalGroup(groupLeaderPid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupLeaderPid, signal);
  } catch {
    // The group is already gone.
  }
}

function groupAlive(groupLeaderPid: number): boolean {
  try {
    process.kill(-groupLeaderPid, 0);
    return true;
  } catch {
    return false;
  }
}

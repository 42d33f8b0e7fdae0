import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

/** What a running stack publishes in `.data/stack.json` so a second run can reuse it. Holds no secrets. */
export interface StackState {
  ownerPid: number;
  /** Every process the stack owns: the owner and the Temporal dev server's process group. */
  pids: number[];
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  emulatorUrl: string;
  projectId: string;
  fileServerUrl: string;
  receiverUrl: string;
  predictionsFile: string;
  webhookSecretFile: string;
  /** False for a stack that ends with its command (the demo): others must not attach to it. */
  shareable: boolean;
  startedAt: string;
  /** The in-process worker's Prometheus endpoint (absent with `worker: false`). */
  metricsUrl?: string;
  /** Workflows of `callerNamespace` reach the worker's `datatureBatch` Nexus service through this endpoint. */
  nexus?: { endpoint: string; callerNamespace: string };
  /** With `codec`: the codec server (the Web UI's codec endpoint) and the key file (a path; the keys stay in it). */
  codecEndpoint?: string;
  codecKeysFile?: string;
}

export function readStackState(path: string): StackState | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function writeStackState(path: string, state: StackState): void {
  writeFileSync(path, JSON.stringify(state, null, 2) + '\n');
}

/** Removes the state file only if it still describes this process's stack. */
export function removeStackState(path: string, ownerPid: number): void {
  if (readStackState(path)?.ownerPid === ownerPid) rmSync(path, { force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function tcpReachable(hostPort: string, timeoutMs = 1000): Promise<boolean> {
  const [host, port] = hostPort.replace(/^https?:\/\//, '').split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number.parseInt(port, 10) });
    const done = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

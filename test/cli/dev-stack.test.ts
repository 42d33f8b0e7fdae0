import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DEV_DEPLOYMENT_ID } from '../../src/emulator';
import { cancellationReason } from '../../src/run-client/cancellation';
import { cleanEnv, runCli, spawnCli } from './run-cli';
import { exitOf, firstJsonDocument, livePids, processesInGroups } from './stack-helpers';

interface DevOutput {
  reused: boolean;
  ownerPid: number;
  pids: number[];
  fileServerUrl: string;
  receiverUrl: string;
  predictionsFile: string;
  webhookSecretFile: string;
  uiUrl: string;
  metricsUrl: string;
  nexus: { endpoint: string; callerNamespace: string };
  env: Record<string, string>;
}

/**
 * One `dev` stack for the whole file: the run commands are exercised against it, a second `dev`
 * reuses it, and Ctrl-C must leave no process behind.
 */
describe('dev stack and the run commands', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cli-dev-'));
  let dev: ChildProcess;
  let stack: DevOutput;
  let env: NodeJS.ProcessEnv;
  let webhookId: string;
  let datasetFile: string;

  beforeAll(async () => {
    dev = spawnCli(['dev', '--json', '--data-dir', dataDir]);
    stack = await firstJsonDocument<DevOutput>(dev);
    env = cleanEnv(stack.env);
    datasetFile = join(dataDir, 'items.ndjson');
    writeFileSync(
      datasetFile,
      ['cell-001.png', 'cell-002.png', 'cell-003.png', 'cell-004.png']
        .map((name) => `{"kind":"Image","url":"${stack.fileServerUrl}/${name}"}\n`)
        .join(''),
    );
    const webhook = await runCli(
      [
        '--json',
        'webhooks',
        'create',
        '--name',
        'receiver',
        '--endpoint',
        stack.receiverUrl,
        '--secret-file',
        stack.webhookSecretFile,
      ],
      env,
    );
    webhookId = JSON.parse(webhook.stdout).id;
  });

  afterAll(async () => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  });

  test('dev prints the UI, the emulator and the env to export', () => {
    expect(stack.reused).toBe(false);
    expect(stack.env.TEMPORAL_ADDRESS).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(stack.env.DATATURE_API_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.pids).toContain(dev.pid);
  });

  test("dev creates a caller namespace and a Nexus endpoint targeting the worker's task queue", async () => {
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
    try {
      await connection.workflowService.describeNamespace({ namespace: stack.nexus.callerNamespace });
      const { endpoints } = await connection.operatorService.listNexusEndpoints({ name: stack.nexus.endpoint });
      expect(endpoints?.[0]?.spec?.target?.worker).toEqual(
        expect.objectContaining({ namespace: stack.env.TEMPORAL_NAMESPACE, taskQueue: stack.env.TEMPORAL_TASK_QUEUE }),
      );
    } finally {
      await connection.close();
    }
  });

  test('run --wait draws progress and prints the result; status and logs follow the run', async () => {
    const startedAt = Date.now();
    const run = await runCli(
      [
        'run',
        datasetFile,
        '--deployment',
        DEV_DEPLOYMENT_ID,
        '--webhook',
        webhookId,
        '--workflow-id',
        'cli-run-wait',
        '--wait',
      ],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/delivered +\[#+\] 100% 4\/4/);
    expect(run.stdout).toMatch(/^run: +cli-run-wait: completed \(job Reached\)$/m);
    expect(run.stdout).toContain('gathered 4, predicted 4, delivered 4');
    // The watch queries only when something changed, never more than every 5 s (plus the final view).
    const queries = Number(/^watch: +(\d+) progress queries, (\d+) describes$/m.exec(run.stdout)?.[1]);
    const waitedSeconds = (Date.now() - startedAt) / 1000;
    expect(queries).toBeGreaterThanOrEqual(1);
    expect(queries).toBeLessThanOrEqual(Math.ceil(waitedSeconds / 5) + 2);

    const status = await runCli(['--json', 'status', 'cli-run-wait'], env);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.status).toBe('COMPLETED');
    expect(parsed.progress.job.items.delivered).toBe(4);
    expect(parsed.uiUrl).toBe(`${stack.uiUrl}/namespaces/default/workflows/cli-run-wait`);
    const result = await runCli(['--json', 'result', 'cli-run-wait'], env);
    expect(JSON.parse(result.stdout).jobId).toBe(parsed.progress.jobId);

    const logsFile = join(dataDir, 'run.logs.ndjson');
    const logs = await runCli(['logs', 'cli-run-wait', '--output', logsFile], env);
    expect(logs.code).toBe(0);
    const entries = readFileSync(logsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.status === 'Delivered')).toHaveLength(4);
  });

  test("dev prints the worker's metrics URL; it counts the finished run", async () => {
    expect(stack.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scrape = await (await fetch(stack.metricsUrl)).text();
    expect(scrape).toMatch(/^datature_batch_runs_ended_total\{[^}]*outcome="completed"[^}]*\} [1-9]/m);
    expect(scrape).toMatch(/^temporal_workflow_completed_total\{/m);
  });

  test('a detached run prints its id and UI link; cancel ends it as cancelled (result exits 1)', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString(); // the job waits, so there is time to cancel
    const started = await runCli(
      [
        '--json',
        'run',
        datasetFile,
        '--deployment',
        DEV_DEPLOYMENT_ID,
        '--webhook',
        webhookId,
        '--start-at',
        startAt,
        '--workflow-id',
        'cli-run-cancel',
      ],
      env,
    );
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({
      workflowId: 'cli-run-cancel',
      uiUrl: `${stack.uiUrl}/namespaces/default/workflows/cli-run-cancel`,
    });
    const cancel = await runCli(['cancel', 'cli-run-cancel', '--reason', 'test'], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout.trim()).toBe('sent cancel signal to cli-run-cancel');
    const result = await runCli(['result', 'cli-run-cancel'], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    // Says it was cancelled, beyond the workflow id (which itself contains "cancel"), and what it cleaned up.
    expect(result.stderr.replaceAll('cli-run-cancel', '<id>')).toMatch(/\bcancel+ed\b/i);
    expect(result.stderr).toMatch(/was canceled \(test\): job batchjob_\S+ cancelled at \d{4}-\d\d-\d\dT/);
    const json = await runCli(['--json', 'result', 'cli-run-cancel'], env);
    expect(JSON.parse(json.stdout).error).toMatchObject({ type: 'Canceled', exitCode: 1 });
    // The activity that turns the signal into a cancellation request hands the reason on to the history.
    const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection, namespace: stack.env.TEMPORAL_NAMESPACE });
      expect(await cancellationReason(client, 'cli-run-cancel')).toBe('test');
    } finally {
      await connection.close();
    }
  });

  test('cancel --hard sends a cancellation request with its reason; result says why; status shows it cancelled', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const started = await runCli(
      [
        'run',
        datasetFile,
        '--deployment',
        DEV_DEPLOYMENT_ID,
        '--webhook',
        webhookId,
        '--start-at',
        startAt,
        '--workflow-id',
        'cli-run-hard-cancel',
      ],
      env,
    );
    expect(started.code).toBe(0);
    expect(started.stdout).toContain('started cli-run-hard-cancel');
    const cancel = await runCli(['cancel', 'cli-run-hard-cancel', '--hard', '--reason', 'wrong dataset'], env);
    expect(cancel.stdout.trim()).toBe('sent cancellation request to cli-run-hard-cancel');
    const result = await runCli(['result', 'cli-run-hard-cancel'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/was canceled \(wrong dataset\): job batchjob_\S+ cancelled at /);
    const status = await runCli(['status', 'cli-run-hard-cancel'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^status +CANCELED$/m);
  });

  test('poke makes a run that waits for its start time look now; status --watch follows a run to its end', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const args = ['run', datasetFile, '--deployment', DEV_DEPLOYMENT_ID, '--webhook', webhookId, '--start-at', startAt];
    expect((await runCli([...args, '--workflow-id', 'cli-run-poke'], env)).code).toBe(0);
    const poke = await runCli(['poke', 'cli-run-poke'], env);
    expect(poke.code).toBe(0);
    expect(poke.stdout.trim()).toBe('sent checkNow to cli-run-poke');
    // The look happened at once, an hour before the job starts.
    let polls = 0;
    for (let i = 0; i < 100 && polls === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      polls = JSON.parse((await runCli(['--json', 'status', 'cli-run-poke'], env)).stdout).progress?.polls ?? 0;
    }
    expect(polls).toBe(1);
    expect((await runCli(['cancel', 'cli-run-poke', '--hard'], env)).code).toBe(0);

    const quick = ['run', datasetFile, '--deployment', DEV_DEPLOYMENT_ID, '--webhook', webhookId];
    expect((await runCli([...quick, '--workflow-id', 'cli-run-watched'], env)).code).toBe(0);
    const watched = await runCli(['status', 'cli-run-watched', '--watch'], env);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/^status +COMPLETED$/m);
    expect(watched.stderr).toMatch(/^watch: \d+ progress queries, \d+ describes$/m);
  });

  test('a second dev reuses the running stack', async () => {
    const second = await runCli(['dev', '--json', '--data-dir', dataDir]);
    expect(second.code).toBe(0);
    const reused = JSON.parse(second.stdout) as DevOutput;
    expect(reused.reused).toBe(true);
    expect(reused.env.TEMPORAL_ADDRESS).toBe(stack.env.TEMPORAL_ADDRESS);
  });

  test('Ctrl-C stops everything: no process of the stack is left', async () => {
    const groups = stack.pids.filter((pid) => pid !== dev.pid);
    expect(processesInGroups(groups).length).toBeGreaterThan(0); // the dev server runs in its own group
    dev.kill('SIGINT');
    expect(await exitOf(dev)).toBe(130);
    expect(livePids(stack.pids)).toEqual([]);
    expect(processesInGroups(groups)).toEqual([]);
  });
});

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, runCli } from './run-cli';

describe('usage and configuration errors', () => {
  test('--help lists every command group and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const group of [
      'demo',
      'dev',
      'worker',
      'codec-server',
      'codec-key',
      'emulator',
      'receiver',
      'run',
      'schedule',
      'status',
      'cancel',
      'result',
      'logs',
      'webhooks',
      'datasets',
      'jobs',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
    }
  });

  test('command help shows examples', async () => {
    const result = await runCli(['webhooks', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
  });

  test('an unknown option is a usage error: exit 2, one line', async () => {
    const result = await runCli(['jobs', 'list', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual(["error: unknown option '--bogus'"]);
  });

  test('an unknown command is a usage error', async () => {
    const result = await runCli(['jbos']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'jbos'");
  });

  test('a missing argument is a usage error', async () => {
    const result = await runCli(['status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'workflowId'");
  });

  test('an invalid flag value is a usage error', async () => {
    const result = await runCli(['jobs', 'list', '--limit', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected an integer');
  });

  test('missing API configuration: exit 2 and names what is missing', async () => {
    const result = await runCli(['webhooks', 'list']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'error: missing configuration: project id (--project or env DATATURE_PROJECT_ID), secret key (env DATATURE_SECRET_KEY or --secret-key-file)',
    );
  });

  test('missing Temporal configuration: exit 2 and points at `dev`', async () => {
    const result = await runCli(['status', 'some-workflow']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing configuration: Temporal address');
    expect(result.stderr).toContain('datature-batch dev');
  });

  test('a bad codec key file stops the worker and the Temporal commands before connecting: exit 2, naming it', async () => {
    const missing = '/nonexistent/codec-keys.json';
    const env = cleanEnv({
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      DATATURE_PROJECT_ID: 'proj_1',
      DATATURE_SECRET_KEY: 'k',
      DATATURE_BATCH_CODEC_KEYS: missing,
    });
    for (const args of [['worker'], ['status', 'some-workflow']]) {
      const result = await runCli(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`codec key file ${missing}: cannot read it (ENOENT)`);
    }
  });

  test('an unreadable secret key file is a configuration error', async () => {
    const result = await runCli(['jobs', 'list', '--project', 'proj_1', '--secret-key-file', '/nonexistent/key']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: cannot read --secret-key-file /nonexistent/key: ENOENT');
  });

  test('the secret key is never echoed, even in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'sk-very-secret-value\n');
    // An unreachable API (port 9 on loopback refuses) makes the client fail after reading the key.
    const result = await runCli(
      ['--verbose', 'jobs', 'get', 'sk-very-secret-value', '--project', 'proj_1', '--secret-key-file', keyFile],
      cleanEnv({ DATATURE_API_BASE_URL: 'http://127.0.0.1:9' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain('sk-very-secret-value');
    expect(result.stderr).toContain('/batch/jobs/*** failed');
  });

  test('`demo` with --api-url starts nothing and says why', async () => {
    const result = await runCli(['demo', '--api-url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('an API URL (DATATURE_API_BASE_URL) given');
  });

  test('`dev` refuses to embed a stack when external services are configured', async () => {
    const result = await runCli(['dev'], cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a Temporal address (TEMPORAL_ADDRESS) given');
  });

  test('a run input the schema rejects is a usage error, reported before connecting to Temporal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const dataset = join(dir, 'items.ndjson');
    writeFileSync(dataset, '{"kind":"Image","url":"http://127.0.0.1:9/a.png"}\n');
    const result = await runCli(
      ['run', dataset, '--deployment', 'deploy_1', '--artifact', 'artifact_1', '--webhook', 'webhook_1'],
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'error: invalid batchPrediction input: job: give exactly one of deploymentId, deploymentIds or artifactId',
    );
  });

  test('--retry-failed, --retry-statuses and --retry-delay become retryFailedItems, checked by the input schema (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const dataset = join(dir, 'items.ndjson');
    writeFileSync(dataset, '{"kind":"Image","url":"http://127.0.0.1:9/a.png"}\n');
    const run = (...flags: string[]) =>
      runCli(
        ['run', dataset, '--deployment', 'deploy_1', '--webhook', 'webhook_1', ...flags],
        cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }),
      );
    const statuses = await run('--retry-failed', '2', '--retry-statuses', 'gather,bogus');
    expect(statuses.code).toBe(2);
    expect(statuses.stderr).toContain('retryFailedItems.statuses.1');
    const rounds = await run('--retry-failed', '11');
    expect(rounds.code).toBe(2);
    expect(rounds.stderr).toContain('retryFailedItems.maxRounds');
    // --retry-delay is seconds: a day and a second is one second over the schema's bound in ms.
    const delay = await run('--retry-delay', String(24 * 3600 + 1));
    expect(delay.code).toBe(2);
    expect(delay.stderr).toContain('retryFailedItems.delayMs');
    const day = await run('--retry-delay', String(24 * 3600));
    expect(day.stderr.trim()).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:9/);
  });

  test('run --shard-size --parallel with two --deployment is a valid input: it gets as far as connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const dataset = join(dir, 'items.ndjson');
    writeFileSync(dataset, '{"kind":"Image","url":"http://127.0.0.1:9/a.png"}\n');
    const result = await runCli(
      ['run', dataset, '--deployment', 'd1', '--deployment', 'd2', '--shard-size', '10', '--parallel', '2'].concat([
        '--webhook',
        'webhook_1',
      ]),
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }),
    );
    expect(result.stderr.trim()).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:9/);
  });

  test.each([
    [['--deployment', 'deploy_2'], 'error: invalid batchPrediction input: job.deploymentIds: goes with sharding'],
    [['--parallel', '2'], 'error: --parallel goes with --shard-size'],
    [['--shard-size', '0'], /--shard-size.*expected an integer >= 1/],
  ])('run with sharding flags %j wrong: a usage error before connecting', async (extra, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const dataset = join(dir, 'items.ndjson');
    writeFileSync(dataset, '{"kind":"Image","url":"http://127.0.0.1:9/a.png"}\n');
    const result = await runCli(
      ['run', dataset, '--deployment', 'deploy_1', '--webhook', 'webhook_1', ...extra],
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(message);
  });

  test.each([
    [['run'], 'error: give a dataset (NDJSON file or URL), or --job <jobId> to adopt an existing job'],
    [
      ['run', 'items.ndjson', '--job', 'batchjob_1'],
      'error: --job adopts an existing job: give no dataset, --deployment, --artifact, --webhook, --start-at, --stop-at, --name, --retry-*, --shard-size or --parallel',
    ],
    [['run', '--job', 'batchjob_1', '--webhook', 'webhook_1'], /^error: --job adopts an existing job/],
  ])('run %j: adopting or creating, never both nor neither (exit 2)', async (args, message) => {
    const result = await runCli(args, cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }));
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(message);
  });

  test('schedule create without --webhook is a usage error, reported before connecting to Temporal', async () => {
    const result = await runCli(
      ['schedule', 'create', 'nightly', 'items.ndjson', '--every', '1h', '--deployment', 'deploy_1'],
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }),
    );
    expect(result.code).toBe(2);
    // The rule is src/schedules' (the input schema's), checked before connecting: the CLI does not repeat it.
    expect(result.stderr.trim()).toBe(
      'error: invalid batchPrediction input: job.webhookIds: the API needs at least one webhook',
    );
  });

  test.each([
    [['--every', '1h', '--cron', '0 2 * * *'], 'error: give exactly one of cron and every'],
    [
      ['--every', '1h', '--overlap', 'sometimes'],
      /^error: option '--overlap <policy>' argument 'sometimes' is invalid\. overlap must be one of SKIP, BUFFER_ONE/,
    ],
    [['--every', 'soon'], "error: every must be a duration such as 90s, 30m, 6h or 1d, got 'soon'"],
  ])('schedule create %j: the schedule rules, before connecting (exit 2)', async (flags, message) => {
    const result = await runCli(
      ['schedule', 'create', 'nightly', 'items.ndjson', '--deployment', 'deploy_1', '--webhook', 'w', ...flags],
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:9' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(message);
  });

  test.each(['run', 'schedule create'])('%s --help: --name names the job, not the dataset', async (cmd) => {
    const result = await runCli([...cmd.split(' '), '--help']);
    expect(result.code).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--name <name> +(job name|job name of each run),/);
    expect(help).not.toContain('dataset and job');
  });

  test('run of a missing file is a usage error', async () => {
    const result = await runCli([
      'run',
      '/nonexistent/items.ndjson',
      '--deployment',
      'deploy_1',
      '--webhook',
      'webhook_1',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: dataset file not found: /nonexistent/items.ndjson');
  });

  test('an invalid NDJSON file is a usage error listing the bad lines on one line, before any request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const dataset = join(dir, 'bad.ndjson');
    writeFileSync(dataset, 'not json\n{"kind":"Image"}\n');
    const result = await runCli(
      ['datasets', 'create', '--name', 'bad', dataset],
      cleanEnv({
        DATATURE_API_BASE_URL: 'http://127.0.0.1:9',
        DATATURE_PROJECT_ID: 'proj_1',
        DATATURE_SECRET_KEY: 'k1234',
      }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: invalid NDJSON dataset \(2 errors\): line 1: .* line 2: missing "url"$/m);
  });

  test('a Temporal dev server that cannot start fails the demo in one line and leaves no state behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cli-usage-'));
    const result = await runCli(['demo', '--data-dir', dataDir], cleanEnv({ TEMPORAL_CLI_PATH: '/bin/false' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: temporal dev server exited during start: .*$/m);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
  });
});

// The worker process (`node -r tsx/cjs src/worker.ts`, how a deployment runs it) checks its DATATURE_* and
// TEMPORAL_TASK_QUEUE env before connecting anywhere: one line naming each wrong variable, never a value.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..');

function runWorkerProcess(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', join(repoRoot, 'src', 'worker.ts')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BATCH_TEST_RUN_MARKER: process.env.BATCH_TEST_RUN_MARKER,
      // Nothing listens here: a worker that got past its config check would fail differently.
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

const secretValue = 'sk-do-not-print-4f2a9c';
const projectValue = 'proj_do_not_print_77e1';

test.each([
  ['no API credentials', {}, ['DATATURE_SECRET_KEY is required', 'DATATURE_PROJECT_ID is required']],
  [
    'an empty secret key',
    { DATATURE_SECRET_KEY: '', DATATURE_PROJECT_ID: projectValue },
    ['DATATURE_SECRET_KEY is empty'],
  ],
  [
    'a base URL that is not http(s), and no project',
    { DATATURE_SECRET_KEY: secretValue, DATATURE_API_BASE_URL: `ftp://${secretValue}@example.com/` },
    ['DATATURE_PROJECT_ID is required', 'DATATURE_API_BASE_URL is not an http(s) URL'],
  ],
  [
    'an empty task queue and logs directory',
    {
      DATATURE_SECRET_KEY: secretValue,
      DATATURE_PROJECT_ID: projectValue,
      TEMPORAL_TASK_QUEUE: '',
      DATATURE_LOGS_DIR: '',
    },
    ['TEMPORAL_TASK_QUEUE is empty', 'DATATURE_LOGS_DIR is empty'],
  ],
] as const)('%s: exit 1, one line naming each variable, no value', async (_name, env, problems) => {
  const { code, stdout, stderr } = await runWorkerProcess(env);
  expect(code).toBe(1);
  expect(stdout).toBe('');
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^invalid worker configuration: /);
  const listed = lines[0].replace(/^invalid worker configuration: /, '').split('; ');
  expect(new Set(listed)).toEqual(new Set(problems));
  expect(stderr).not.toContain(secretValue);
  expect(stderr).not.toContain(projectValue);
});

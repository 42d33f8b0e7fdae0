import { existsSync } from 'node:fs';
import { join } from 'node:path';

const venvBin = join(__dirname, '..', '..', '.tools', 'venv', 'bin');

function locate(envVar: string, fileName: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar} points to ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  const local = join(venvBin, fileName);
  if (!existsSync(local)) {
    throw new Error(`${fileName} not found: run 'npm run bootstrap' or set ${envVar}`);
  }
  return local;
}

/** The Temporal CLI (`temporal server start-dev`), from TEMPORAL_CLI_PATH or the bootstrap's venv. */
export function temporalCliPath(): string {
  return locate('TEMPORAL_CLI_PATH', 'temporal');
}

/** The time-skipping test server, from TEMPORAL_TEST_SERVER_PATH or the bootstrap's venv. */
export function temporalTestServerPath(): string {
  return locate('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');
}

/** The venv's Python, where the bootstrap installs the official Datature SDK for tests. */
export function venvPythonPath(): string {
  return locate('DATATURE_TEST_PYTHON', 'python');
}

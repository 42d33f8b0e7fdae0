// Debian's Chromium driven by playwright-core, for the Web UI test. `npm test`'s pretest installs it
// (scripts/bootstrap.mjs --with-browser); when it is missing the test fails saying so, never skips.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Same order as scripts/bootstrap.mjs. */
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Git-ignored: the screenshots a test saves for a person to look at. */
export const TEST_OUTPUT_DIR = resolve(__dirname, '..', '..', 'test-output');

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, ...CHROMIUM_PATHS].filter((path): path is string => Boolean(path));
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  const message =
    `NO CHROMIUM: looked at ${candidates.join(', ')}. The Web UI test needs a real browser: run ` +
    '`node scripts/bootstrap.mjs --with-browser` (apt-get install -y chromium) or set CHROMIUM_PATH.';
  console.error(`\n${'!'.repeat(100)}\n${message}\n${'!'.repeat(100)}\n`);
  throw new Error(message);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // As root (CI containers) Chromium refuses to start with its sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export function screenshotPath(folder: string, name: string): string {
  const dir = join(TEST_OUTPUT_DIR, folder);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

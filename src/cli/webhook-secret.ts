import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from './errors';
import { registerSecret } from './secrets';

/**
 * A webhook secret lives in a file, never on the command line or in output. A missing file is
 * created with a fresh random secret (mode 600) so the receiver can be pointed at the same file.
 */
export function readOrCreateWebhookSecret(path: string): { secret: string; created: boolean } {
  if (existsSync(path)) {
    const secret = readFileSync(path, 'utf8').trim();
    if (!secret) throw new UsageError(`webhook secret file ${path} is empty`);
    registerSecret(secret);
    return { secret, created: false };
  }
  const { generateWebhookSecret } = require('../datature-api') as typeof import('../datature-api');
  const secret = generateWebhookSecret();
  registerSecret(secret);
  writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' });
  return { secret, created: true };
}

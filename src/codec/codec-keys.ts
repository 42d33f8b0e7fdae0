// The key file of the payload codec (env DATATURE_BATCH_CODEC_KEYS): `{"keys":[{"id":"k1","key":"<base64 of 32
// bytes>"}, …]}`, the first key encrypting, every key decrypting (so payloads written before a rotation stay
// readable). Errors name the file and the field, never a key's value.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export const CODEC_KEYS_ENV = 'DATATURE_BATCH_CODEC_KEYS';

/** AES-256: 32 bytes. */
export const CODEC_KEY_BYTES = 32;

export interface CodecKey {
  /** Written in each payload's metadata: which key decrypts it. Not secret. */
  id: string;
  key: Buffer;
}

export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Checks the parsed JSON of a key file; `source` names it in the errors. */
export function parseCodecKeys(json: unknown, source: string): CodecKey[] {
  const fail = (message: string): never => {
    throw new CodecKeyError(`codec key file ${source}: ${message}`);
  };
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    return fail('"keys" is missing or not a list (expected {"keys":[{"id":"k1","key":"<base64 of 32 bytes>"}]})');
  }
  const entries = (json as { keys: unknown[] }).keys;
  if (entries.length === 0) fail('"keys" is empty: the first key encrypts, so at least one is needed');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const at = `keys[${index}]`;
    if (typeof entry !== 'object' || entry === null) return fail(`${at} is not an object`);
    const { id, key } = entry as { id?: unknown; key?: unknown };
    if (typeof id !== 'string' || !KEY_ID.test(id)) {
      return fail(`${at}.id must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    if (seen.has(id)) fail(`${at}.id "${id}" appears twice`);
    seen.add(id);
    if (typeof key !== 'string' || !BASE64.test(key)) return fail(`${at}.key (id "${id}") is not base64`);
    const bytes = Buffer.from(key, 'base64');
    if (bytes.length !== CODEC_KEY_BYTES) {
      fail(
        `${at}.key (id "${id}") is ${bytes.length} bytes, AES-256 needs ${CODEC_KEY_BYTES} (openssl rand -base64 32)`,
      );
    }
    return { id, key: bytes };
  });
}

export function loadCodecKeys(path: string): CodecKey[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CodecKeyError(`codec key file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CodecKeyError(`codec key file ${path}: not valid JSON`);
  }
  return parseCodecKeys(json, path);
}

export function newCodecKey(id: string): { id: string; key: string } {
  return { id, key: randomBytes(CODEC_KEY_BYTES).toString('base64') };
}

/**
 * Rotation: a new key first (it encrypts from the next process start on), the old ones kept after it (they
 * still decrypt what they wrote). Creates the file (mode 600) when absent. Returns the new key's id.
 */
export function addCodecKey(path: string, id?: string): string {
  let existing: { id: string; key: string }[] = [];
  if (existsSync(path)) {
    loadCodecKeys(path); // a bad file stays as it is, with the loader's error
    existing = (JSON.parse(readFileSync(path, 'utf8')) as { keys: { id: string; key: string }[] }).keys;
  }
  const newId = id ?? nextKeyId(existing.map((key) => key.id));
  const keys = [newCodecKey(newId), ...existing];
  parseCodecKeys({ keys }, path);
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, path);
  return newId;
}

/** k1, k2, …: one more than the highest `k<n>` in use. */
function nextKeyId(ids: string[]): string {
  const numbers = ids.map((id) => /^k(\d+)$/.exec(id)?.[1]).filter((n): n is string => n !== undefined);
  return `k${Math.max(0, ...numbers.map(Number)) + 1}`;
}

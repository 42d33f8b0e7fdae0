import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCodecKey, loadCodecKeys, parseCodecKeys } from '../../src/codec';

const key32 = Buffer.alloc(32, 7).toString('base64');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'codec-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a valid file gives its keys in order, first one first', () => {
  const path = join(dir, 'keys.json');
  writeFileSync(
    path,
    JSON.stringify({
      keys: [
        { id: 'k2', key: key32 },
        { id: 'k1', key: Buffer.alloc(32, 1).toString('base64') },
      ],
    }),
  );
  const keys = loadCodecKeys(path);
  expect(keys.map((key) => key.id)).toEqual(['k2', 'k1']);
  expect(keys[0].key.equals(Buffer.alloc(32, 7))).toBe(true);
});

test.each([
  [{}, '"keys" is missing or not a list'],
  [{ keys: [] }, '"keys" is empty'],
  [{ keys: [{ key: key32 }] }, 'keys[0].id must be'],
  [
    {
      keys: [
        { id: 'k1', key: key32 },
        { id: 'k1', key: key32 },
      ],
    },
    'keys[1].id "k1" appears twice',
  ],
  [{ keys: [{ id: 'k1', key: 'not base64!' }] }, 'keys[0].key (id "k1") is not base64'],
  [
    { keys: [{ id: 'k1', key: Buffer.alloc(16).toString('base64') }] },
    'keys[0].key (id "k1") is 16 bytes, AES-256 needs 32',
  ],
])('%j is refused naming the field', (json, message) => {
  expect(() => parseCodecKeys(json, 'keys.json')).toThrow(`codec key file keys.json: ${message}`);
});

test('an unreadable or non-JSON file is named; a key value never appears in an error', () => {
  expect(() => loadCodecKeys(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read it \(ENOENT\)/);
  const path = join(dir, 'bad.json');
  writeFileSync(path, `{"keys":[{"id":"k1","key":"${key32}"`);
  expect(() => loadCodecKeys(path)).toThrow('not valid JSON');
  writeFileSync(path, JSON.stringify({ keys: [{ id: 'k1', key: `${key32.slice(0, 20)}AAAA` }] }));
  try {
    loadCodecKeys(path);
  } catch (err) {
    expect((err as Error).message).not.toContain(key32.slice(0, 20));
  }
});

test('addCodecKey creates the file (mode 600) and puts each new key first', () => {
  const path = join(dir, 'keys.json');
  expect(addCodecKey(path)).toBe('k1');
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(addCodecKey(path)).toBe('k2');
  expect(loadCodecKeys(path).map((key) => key.id)).toEqual(['k2', 'k1']);
  expect(JSON.parse(readFileSync(path, 'utf8')).keys).toHaveLength(2);
  writeFileSync(path, '{"keys":');
  expect(() => addCodecKey(path)).toThrow(`codec key file ${path}: not valid JSON`);
  expect(readFileSync(path, 'utf8')).toBe('{"keys":');
});

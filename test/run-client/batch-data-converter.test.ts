// The codec option of the run-client helpers: an explicit data converter, else a key file, else the env's, else none.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCodecKey, EncryptionCodec } from '../../src/codec';
import { batchDataConverter } from '../../src/run-client';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batch-client-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyIdsOf = (converter: ReturnType<typeof batchDataConverter>) =>
  (converter?.payloadCodecs?.[0] as EncryptionCodec | undefined)?.keyIds;

test('codecKeysPath, else env DATATURE_BATCH_CODEC_KEYS, else no codec; an explicit dataConverter wins', () => {
  const fromOption = join(dir, 'option.json');
  const fromEnv = join(dir, 'env.json');
  addCodecKey(fromOption, 'option-key');
  addCodecKey(fromEnv, 'env-key');
  const env = { DATATURE_BATCH_CODEC_KEYS: fromEnv };
  expect(keyIdsOf(batchDataConverter({ codecKeysPath: fromOption, env }))).toEqual(['option-key']);
  expect(keyIdsOf(batchDataConverter({ env }))).toEqual(['env-key']);
  expect(batchDataConverter({ env: {} })).toBeUndefined();
  const own = { payloadCodecs: [new EncryptionCodec([{ id: 'own', key: Buffer.alloc(32) }])] };
  expect(batchDataConverter({ dataConverter: own, codecKeysPath: fromOption, env })).toBe(own);
  expect(() => batchDataConverter({ codecKeysPath: join(dir, 'missing.json') })).toThrow(
    'missing.json: cannot read it',
  );
});

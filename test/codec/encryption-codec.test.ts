import { randomBytes } from 'node:crypto';
import { DefaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  type CodecKey,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_COMPRESSION,
  METADATA_KEY_ID,
} from '../../src/codec';

const converter = new DefaultPayloadConverter();
const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const SIGNED_URL = 'https://bucket.example.com/cells.ndjson?X-Goog-Signature=secret-signature-0123';

test('round trip: the value comes back, the stored bytes hold none of it, the key id and encoding are in the metadata', async () => {
  const codec = new EncryptionCodec([key('k1')]);
  const original = converter.toPayload({ dataset: { ndjsonUrl: SIGNED_URL } });
  const [encoded] = await codec.encode([original]);
  expect(text(encoded.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(encoded.metadata?.[METADATA_KEY_ID])).toBe('k1');
  expect(JSON.stringify(encoded)).not.toContain('bucket.example.com');
  expect(Buffer.from(encoded.data!).toString('latin1')).not.toContain('bucket');
  const [decoded] = await codec.decode([encoded]);
  expect(converter.fromPayload(decoded)).toEqual({ dataset: { ndjsonUrl: SIGNED_URL } });
  expect(text(decoded.metadata?.encoding)).toBe('json/plain');
});

test('each encoding of the same value differs (a fresh IV each time)', async () => {
  const codec = new EncryptionCodec([key('k1')]);
  const payload = converter.toPayload('same');
  const [a, b] = await codec.encode([payload, payload]);
  expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
});

test('rotation: the first key encrypts; payloads of the older key still decode', async () => {
  const k1 = key('k1');
  const k2 = key('k2');
  const [old] = await new EncryptionCodec([k1]).encode([converter.toPayload('written before the rotation')]);
  const rotated = new EncryptionCodec([k2, k1]);
  const [fresh] = await rotated.encode([converter.toPayload('written after')]);
  expect(text(fresh.metadata?.[METADATA_KEY_ID])).toBe('k2');
  const decoded = await rotated.decode([old, fresh]);
  expect(decoded.map((payload) => converter.fromPayload(payload))).toEqual([
    'written before the rotation',
    'written after',
  ]);
});

test('an unknown key id fails with a message naming it and the keys this process has', async () => {
  const [encoded] = await new EncryptionCodec([key('k9')]).encode([converter.toPayload('x')]);
  await expect(new EncryptionCodec([key('k1'), key('k2')]).decode([encoded])).rejects.toThrow(
    'cannot decode payload: unknown key id "k9" (this process has "k1", "k2"',
  );
});

test('tampering is detected: a flipped ciphertext bit, a changed key id, a stripped compression flag', async () => {
  const k1 = key('k1');
  const codec = new EncryptionCodec([k1, { id: 'k1-copy', key: k1.key }]);
  const [encoded] = await codec.encode([converter.toPayload('x'.repeat(4000))]);
  expect(text(encoded.metadata?.[METADATA_COMPRESSION])).toBe('deflate');
  const flipped = Buffer.from(encoded.data!);
  flipped[20] ^= 1;
  await expect(codec.decode([{ ...encoded, data: flipped }])).rejects.toThrow(/authentication failed with key id "k1"/);
  // Same key bytes under another id: the id is authenticated with the ciphertext.
  const relabelled: Payload = {
    ...encoded,
    metadata: { ...encoded.metadata, [METADATA_KEY_ID]: Buffer.from('k1-copy') },
  };
  await expect(codec.decode([relabelled])).rejects.toThrow(/authentication failed/);
  const { [METADATA_COMPRESSION]: _, ...uncompressed } = encoded.metadata!;
  await expect(codec.decode([{ ...encoded, metadata: uncompressed }])).rejects.toThrow(/authentication failed/);
});

test('compression: used when it makes the payload smaller, skipped when it would not', async () => {
  const codec = new EncryptionCodec([key('k1')]);
  const items = Array.from({ length: 500 }, (_, i) => ({
    kind: 'Image',
    url: `https://files.example.com/cell-${i}.png`,
  }));
  const repetitive = converter.toPayload(items);
  const random = converter.toPayload(new Uint8Array(randomBytes(3000))); // binary/plain: incompressible
  const [small, big] = await codec.encode([repetitive, random]);
  expect(text(small.metadata?.[METADATA_COMPRESSION])).toBe('deflate');
  expect(small.data!.length).toBeLessThan(repetitive.data!.length / 4);
  expect(big.metadata?.[METADATA_COMPRESSION]).toBeUndefined();
  const decoded = await codec.decode([small, big]);
  expect(converter.fromPayload(decoded[0])).toEqual(items);
  expect(Buffer.from(decoded[1].data!).equals(Buffer.from(random.data!))).toBe(true);
});

test('payloads that are not encrypted (written before the codec was on) pass through', async () => {
  const codec = new EncryptionCodec([key('k1')]);
  const plain = converter.toPayload({ old: true });
  expect(await codec.decode([plain])).toEqual([plain]);
});

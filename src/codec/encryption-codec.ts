// AES-256-GCM payload codec: every payload the SDK writes (inputs, results, signals, queries, memo, the Web
// UI's summary and details, failure messages with the data converter of data-converter.ts) is stored in
// Temporal as ciphertext; only processes holding the key file read it. The plaintext is the original
// Payload (protobuf), deflated first when it is 1 KiB or more and that makes it smaller; the key id, cipher and compression travel
// in the payload's metadata and are authenticated with it (GCM additional data), so neither the ciphertext
// nor them can be altered unnoticed.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { type CodecKey, CodecKeyError } from './codec-keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const METADATA_COMPRESSION = 'encryption-compression';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Below this, deflate is not tried: on a run's input (~300 B) it saves a few dozen bytes for ~25 µs, a third of
 * the codec's cost (bench/codec.ts); from 1 KiB on, JSON of URLs shrinks several times.
 */
const COMPRESS_FROM_BYTES = 1024;
/** IVs are cut from a pool of random bytes: one `randomBytes` call per payload costs ~9 µs, as much as AES. */
const IV_POOL_BYTES = IV_BYTES * 1024;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  ivOffset += IV_BYTES;
  return ivPool.subarray(ivOffset - IV_BYTES, ivOffset);
}

const text = new TextEncoder();
const utf8 = new TextDecoder();

/** A payload this codec cannot read: which one and why, in plain words (it ends up as a workflow task failure). */
export class PayloadDecodeError extends Error {
  override name = 'PayloadDecodeError';
}

export class EncryptionCodec implements PayloadCodec {
  private readonly encryptingKey: CodecKey;
  private readonly keysById: Map<string, Buffer>;

  /** `keys[0]` encrypts; every key decrypts what it encrypted. */
  constructor(keys: readonly CodecKey[]) {
    if (keys.length === 0) throw new CodecKeyError('the payload codec needs at least one key');
    this.encryptingKey = keys[0];
    this.keysById = new Map(keys.map(({ id, key }) => [id, key]));
  }

  get keyIds(): string[] {
    return [...this.keysById.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encodeOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  encodeOne(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    let body: Uint8Array = plain;
    let compression: string | undefined;
    if (plain.length >= COMPRESS_FROM_BYTES) {
      const deflated = deflateRawSync(plain);
      if (deflated.length < plain.length) {
        body = deflated;
        compression = 'deflate';
      }
    }
    const { id, key } = this.encryptingKey;
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(additionalData(id, compression));
    const data = Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING]: text.encode(ENCRYPTED_ENCODING),
        [METADATA_KEY_ID]: text.encode(id),
        [METADATA_CIPHER]: text.encode(CIPHER),
        ...(compression ? { [METADATA_COMPRESSION]: text.encode(compression) } : {}),
      },
      data,
    };
  }

  /** Payloads not encrypted (written before the codec was turned on) pass through as they are. */
  decodeOne(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (metadataText(metadata, METADATA_ENCODING) !== ENCRYPTED_ENCODING) return payload;
    const id = metadataText(metadata, METADATA_KEY_ID);
    if (id === undefined) throw new PayloadDecodeError('cannot decode payload: it has no encryption-key-id');
    const key = this.keysById.get(id);
    if (!key) {
      throw new PayloadDecodeError(
        `cannot decode payload: unknown key id "${id}" (this process has ${this.keyIds.map((k) => `"${k}"`).join(', ')}; ` +
          'add the key to its DATATURE_BATCH_CODEC_KEYS file)',
      );
    }
    const cipherName = metadataText(metadata, METADATA_CIPHER);
    if (cipherName !== undefined && cipherName !== CIPHER) {
      throw new PayloadDecodeError(`cannot decode payload: cipher ${cipherName}, only ${CIPHER} is known`);
    }
    const compression = metadataText(metadata, METADATA_COMPRESSION);
    if (compression !== undefined && compression !== 'deflate') {
      throw new PayloadDecodeError(`cannot decode payload: unknown compression ${compression}`);
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecodeError(`cannot decode payload: ${data.length} bytes is too short for ${CIPHER}`);
    }
    let body: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(additionalData(id, compression));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      body = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecodeError(
        `cannot decode payload: authentication failed with key id "${id}" (altered, or another key under that id)`,
      );
    }
    const plain = compression ? inflateRawSync(body) : body;
    return temporal.api.common.v1.Payload.decode(plain) as Payload;
  }
}

function additionalData(keyId: string, compression: string | undefined): Buffer {
  return Buffer.from(`${CIPHER}\n${keyId}\n${compression ?? 'none'}`);
}

function metadataText(metadata: Record<string, Uint8Array | null | undefined>, name: string): string | undefined {
  const value = metadata[name];
  return value ? utf8.decode(value) : undefined;
}

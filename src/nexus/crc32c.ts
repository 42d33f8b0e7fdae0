// CRC32C (Castagnoli), the checksum Google Cloud Storage verifies in `x-goog-hash: crc32c=<base64>`.
// Node has no native CRC32C (zlib.crc32 is the IEEE polynomial, a different checksum), so it is computed
// here with slicing-by-16 tables over aligned 32-bit words: about 1.3 GB/s on the 2-core bench machine,
// against 0.45 GB/s for slicing-by-8 over single bytes (`npx tsx bench/upload.ts` prints the pass speed).

import { endianness } from 'node:os';

const POLY = 0x82f63b78;
/** 16 tables of 256 entries, table t at offset t * 256; one flat array keeps every lookup one bounds check. */
const T = (() => {
  const table = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n];
    for (let t = 1; t < 16; t++) {
      c = table[c & 0xff] ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

/** Word reads assume the CRC's bit order matches the machine's (little-endian); elsewhere bytes are read one by one. */
const WORDS = endianness() === 'LE';

function updateBytes(crc: number, bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) crc = T[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

function update(crc: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (!WORDS || n < 64) return updateBytes(crc, bytes, 0, n);
  // Bytes up to a 4-byte boundary one by one, then 16 bytes (four words) per step, then the tail.
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  crc = updateBytes(crc, bytes, 0, head);
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + head, (n - head) >>> 2);
  const end = words.length & ~3;
  for (let w = 0; w < end; w += 4) {
    const a = words[w] ^ crc;
    const b = words[w + 1];
    const c = words[w + 2];
    const d = words[w + 3];
    crc =
      T[3840 + (a & 0xff)] ^
      T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^
      T[3072 + (a >>> 24)] ^
      T[2816 + (b & 0xff)] ^
      T[2560 + ((b >>> 8) & 0xff)] ^
      T[2304 + ((b >>> 16) & 0xff)] ^
      T[2048 + (b >>> 24)] ^
      T[1792 + (c & 0xff)] ^
      T[1536 + ((c >>> 8) & 0xff)] ^
      T[1280 + ((c >>> 16) & 0xff)] ^
      T[1024 + (c >>> 24)] ^
      T[768 + (d & 0xff)] ^
      T[512 + ((d >>> 8) & 0xff)] ^
      T[256 + ((d >>> 16) & 0xff)] ^
      T[d >>> 24];
  }
  return updateBytes(crc, bytes, head + end * 4, n);
}

/** Incremental CRC32C: feed chunks with `update`, read the GCS-style base64 digest with `base64()`. */
export class Crc32c {
  private crc = -1;

  update(chunk: Uint8Array): this {
    this.crc = update(this.crc, chunk);
    return this;
  }

  value(): number {
    return ~this.crc >>> 0;
  }

  /** Big-endian 4-byte digest, base64: the form of the API's `crc32c` field and of `x-goog-hash`. */
  base64(): string {
    const digest = Buffer.alloc(4);
    digest.writeUInt32BE(this.value());
    return digest.toString('base64');
  }
}

export function crc32cBase64(data: Uint8Array): string {
  return new Crc32c().update(data).base64();
}

// CRC32C (Castagnoli), the checksum Google Cloud Storage verifies in `x-goog-hash: crc32c=<base64>`.
// Slice-by-8 tables: hashing runs at several hundred MB/s, so a multi-GB NDJSON file is not slowed down.

const POLY = 0x82f63b78;
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n];
    for (let t = 1; t < 8; t++) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c >>> 0;
    }
  }
  return tables;
})();

/** Incremental CRC32C: feed chunks with `update`, read the GCS-style base64 digest with `base64()`. */
export class Crc32c {
  private crc = 0xffffffff;

  update(chunk: Uint8Array): this {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
    let crc = this.crc;
    let i = 0;
    const end8 = chunk.length - (chunk.length % 8);
    for (; i < end8; i += 8) {
      const a = (crc ^ (chunk[i] | (chunk[i + 1] << 8) | (chunk[i + 2] << 16) | (chunk[i + 3] << 24))) >>> 0;
      crc =
        t7[a & 0xff] ^
        t6[(a >>> 8) & 0xff] ^
        t5[(a >>> 16) & 0xff] ^
        t4[a >>> 24] ^
        t3[chunk[i + 4]] ^
        t2[chunk[i + 5]] ^
        t1[chunk[i + 6]] ^
        t0[chunk[i + 7]];
    }
    for (; i < chunk.length; i++) crc = t0[(crc ^ chunk[i]) & 0xff] ^ (crc >>> 8);
    this.crc = crc >>> 0;
    return this;
  }

  value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
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

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  Crc32c,
  combineCrc32c,
  crc32cBase64,
  jsCrc32cStep,
  loadNativeCrc32cStep,
  NATIVE_CRC32C,
  ParallelCrc32c,
} from '../../src/datature-api/crc32c';
import { venvPythonPath } from '../../src/dev/binaries';

describe('crc32c', () => {
  it('matches the RFC 3720 check value', () => {
    expect(new Crc32c().update(Buffer.from('123456789')).value()).toBe(0xe3069283);
  });

  it('gives the same digest however the bytes are chunked', () => {
    const data = randomBytes(100_003);
    const chunked = new Crc32c();
    for (let i = 0; i < data.length; i += 7919) chunked.update(data.subarray(i, i + 7919));
    expect(chunked.base64()).toBe(crc32cBase64(data));
  });

  it('combines the digests of two parts into the digest of both (the two halves of a file)', () => {
    const data = randomBytes(300_007);
    for (const seam of [0, 1, 4, 65_536, 123_457, 300_006, 300_007]) {
      const [a, b] = [data.subarray(0, seam), data.subarray(seam)];
      const combined = combineCrc32c(new Crc32c().update(a).value(), new Crc32c().update(b).value(), b.length);
      expect({ seam, combined }).toEqual({ seam, combined: new Crc32c().update(data).value() });
    }
  });

  it('uses the CPU instruction on this platform (the prebuilt @node-rs/crc32 binary loads)', () => {
    expect(NATIVE_CRC32C).toBe(true);
  });

  it('falls back to the pure-JS CRC when the native binary does not load or computes another checksum', () => {
    expect(
      loadNativeCrc32cStep(() => {
        throw new Error('Cannot find module @node-rs/crc32-linux-x64-gnu');
      }),
    ).toBeUndefined();
    // zlib's CRC-32 (IEEE polynomial), what a mixed-up binary might compute instead.
    expect(loadNativeCrc32cStep(() => ({ crc32c: () => 0xcbf43926 }))).toBeUndefined();
  });

  it.each([
    ['the native', loadNativeCrc32cStep()!],
    ['the pure-JS', jsCrc32cStep],
  ])('%s CRC agrees with a bit-at-a-time reference at every alignment and length', (_name, step) => {
    // The JS fast path reads aligned 32-bit words; a wrong head, tail or table index shows up here.
    const reference = (bytes: Uint8Array) => {
      let crc = 0xffffffff;
      for (const byte of bytes) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
      }
      return (crc ^ 0xffffffff) >>> 0;
    };
    const data = randomBytes(4096);
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 1, 63, 64, 65, 67, 80, 1000, 4000]) {
        const slice = data.subarray(offset, offset + length);
        expect(new Crc32c(step).update(slice).value()).toBe(reference(slice));
        // Continuing a digest: the chunked form the upload pass uses.
        expect(new Crc32c(step).update(slice.subarray(0, 5)).update(slice.subarray(5)).value()).toBe(reference(slice));
      }
    }
  });

  it('on a worker thread, continuing a digest begun here, gives the same digest', async () => {
    const data = randomBytes(300_007);
    const begun = new Crc32c(jsCrc32cStep).update(data.subarray(0, 1001));
    const parallel = new ParallelCrc32c(4096, begun);
    try {
      // Parts larger than the worker's buffers and of odd sizes, the caller's buffer reused after each call.
      const reused = Buffer.alloc(70_001);
      for (let i = 1001; i < data.length; i += reused.length) {
        const n = data.copy(reused, 0, i, i + reused.length);
        await parallel.update(reused.subarray(0, n));
        reused.fill(0);
      }
      expect(await parallel.base64()).toBe(crc32cBase64(data));
    } finally {
      await parallel.close();
    }
  });

  it('agrees with the crc32c package the official Python SDK uses', () => {
    const data = randomBytes(65_537);
    const script =
      'import sys, base64, crc32c; d = sys.stdin.buffer.read(); ' +
      'print(base64.b64encode(crc32c.crc32c(d).to_bytes(4, "big")).decode())';
    const python = spawnSync(venvPythonPath(), ['-c', script], { input: data, encoding: 'utf8' });
    expect(python.stderr).toBe('');
    expect(python.stdout.trim()).toBe(crc32cBase64(data));
  });
});

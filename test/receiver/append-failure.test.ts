// The receiver's one 500: the append (write + fsync) of a verified delivery failed. The failure is real:
// the CLI receiver runs under a file-size limit (RLIMIT_FSIZE), so the write that would pass it gets EFBIG.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemPredictedDelivery } from '../../src/webhook-delivery/payload';
import { crashAllChildReceivers, startChildReceiver } from './child-receiver';
import { itemDelivery, newSecret, postSigned, readStored, tempDir } from './helpers';

const secret = newSecret();
let tmp: ReturnType<typeof tempDir>;

beforeAll(() => {
  tmp = tempDir();
});

afterAll(async () => {
  await crashAllChildReceivers();
  tmp.remove();
});

const LIMIT_BYTES = 4096;

/** A delivery whose stored line (JSON + newline) is exactly `lineBytes` long. */
function deliveryOfLineSize(index: number, lineBytes: number): ItemPredictedDelivery {
  const base = itemDelivery({ jobId: 'job_full', item: { kind: 'Image', url: `http://127.0.0.1/${index}/` } });
  const stored = {
    deliveryId: base.deliveryId,
    jobId: base.jobId,
    datasetId: base.datasetId,
    item: base.item,
    predictions: base.predictions,
    receivedAt: new Date().toISOString(), // always 24 characters
  };
  const pad = lineBytes - (Buffer.byteLength(JSON.stringify(stored)) + 1);
  return { ...base, item: { kind: 'Image', url: `${base.item.url}${'x'.repeat(pad)}` } };
}

test.each([
  // 8 lines fill the limit exactly: the 9th write fails whole (EFBIG).
  ['fails whole', 512],
  // 8 lines leave 96 bytes: the 9th write is cut short (the kernel writes 96 bytes), then fails.
  ['is cut short', 500],
])(
  'an append that %s answers 500 {"error":"internal"}, stores nothing; a retry later is stored',
  async (name, lineBytes) => {
    const outFile = join(tmp.dir, `full-${lineBytes}.ndjson`);
    const secretFile = join(tmp.dir, `secret-${name}`);
    writeFileSync(secretFile, secret);
    const receiver = await startChildReceiver({ port: 0, secretFile, outFile, fileSizeLimitBytes: LIMIT_BYTES });

    const fits = Array.from({ length: Math.floor(LIMIT_BYTES / lineBytes) }, (_, index) =>
      deliveryOfLineSize(index, lineBytes),
    );
    for (const delivery of fits) {
      expect((await postSigned(receiver.url, delivery, { secret })).status).toBe(200);
    }
    expect(readFileSync(outFile).length).toBe(fits.length * lineBytes);

    const overflowing = deliveryOfLineSize(99, lineBytes);
    const failed = await postSigned(receiver.url, overflowing, { secret });
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.text)).toEqual({ error: 'internal', message: 'could not store the delivery' });

    // Not acknowledged, not stored (no torn line either), not counted; what was stored before is intact.
    expect(readFileSync(outFile).length).toBe(fits.length * lineBytes);
    expect(readStored(outFile).map((line) => line.deliveryId)).toEqual(fits.map((delivery) => delivery.deliveryId));
    const counts = await postSigned(receiver.url, '', { method: 'GET', path: '/counts?jobId=job_full' });
    expect(JSON.parse(counts.text)).toEqual({ jobId: 'job_full', predictions: fits.length });
    // The sender's retry fails the same way while the disk is full, never as a duplicate.
    expect((await postSigned(receiver.url, overflowing, { secret })).status).toBe(500);

    // Room again (a restart without the limit, same file): the retry is stored, once.
    await receiver.stop();
    const roomy = await startChildReceiver({ port: 0, secretFile, outFile });
    const retried = await postSigned(roomy.url, overflowing, { secret });
    expect(retried.status).toBe(200);
    expect(JSON.parse(retried.text)).toEqual({ ok: true, duplicate: false });
    expect(readStored(outFile)).toHaveLength(fits.length + 1);
  },
);

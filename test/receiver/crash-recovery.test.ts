import { writeFileSync } from 'node:fs';
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

/** Sends every delivery with `concurrency` in flight; returns the ids answered 2xx (network errors are expected). */
async function deliverAll(
  url: () => string,
  deliveries: ItemPredictedDelivery[],
  concurrency: number,
  onAck?: (ackedSoFar: number) => void,
): Promise<Set<string>> {
  const acked = new Set<string>();
  let next = 0;
  const lane = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++];
      try {
        const { status } = await postSigned(url(), delivery, { secret });
        if (status >= 200 && status < 300) {
          acked.add(delivery.deliveryId);
          onAck?.(acked.size);
        }
      } catch {
        // the receiver was killed under this request: not acknowledged, so the sender would retry
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return acked;
}

test('kill -9 mid-stream: every acknowledged prediction survives, redeliveries are not duplicated', async () => {
  const outFile = join(tmp.dir, 'results.ndjson');
  const secretFile = join(tmp.dir, 'secret');
  writeFileSync(secretFile, secret);
  const deliveries = Array.from({ length: 600 }, (_, index) =>
    itemDelivery({ jobId: 'job_crash', item: { kind: 'Image', url: `http://127.0.0.1/items/${index}.jpg` } }),
  );

  const first = await startChildReceiver({ port: 0, secretFile, outFile });
  let crashing: Promise<void> | undefined;
  const ackedBeforeCrash = await deliverAll(
    () => first.url,
    deliveries,
    32,
    (ackedSoFar) => {
      if (ackedSoFar === 200) crashing = first.crash();
    },
  );
  await crashing;
  // The crash landed mid-stream: some acknowledged, some never answered.
  expect(ackedBeforeCrash.size).toBeGreaterThanOrEqual(200);
  expect(ackedBeforeCrash.size).toBeLessThan(deliveries.length);

  const storedAfterCrash = readStored(outFile).map((line) => line.deliveryId);
  for (const id of ackedBeforeCrash) expect(storedAfterCrash).toContain(id);
  expect(new Set(storedAfterCrash).size).toBe(storedAfterCrash.length);

  // Same port, like a supervisor restarting it behind a fixed webhook endpoint; the sender redelivers everything.
  const second = await startChildReceiver({ port: first.port, secretFile, outFile });
  const ackedAfterRestart = await deliverAll(() => second.url, deliveries, 32);
  expect(ackedAfterRestart.size).toBe(deliveries.length);

  const finalIds = readStored(outFile).map((line) => line.deliveryId);
  expect(finalIds).toHaveLength(deliveries.length);
  expect(new Set(finalIds)).toEqual(new Set(deliveries.map((delivery) => delivery.deliveryId)));
});

test('the CLI receiver stops on SIGTERM with exit 0, keeping what it stored', async () => {
  const outFile = join(tmp.dir, 'graceful.ndjson');
  const secretFile = join(tmp.dir, 'secret-graceful');
  writeFileSync(secretFile, secret);
  const receiver = await startChildReceiver({ port: 0, secretFile, outFile });
  const delivery = itemDelivery({ jobId: 'job_graceful' });
  expect((await postSigned(receiver.url, delivery, { secret })).status).toBe(200);
  expect(await receiver.stop()).toBe(0);
  expect(readStored(outFile).map((line) => line.deliveryId)).toEqual([delivery.deliveryId]);
});

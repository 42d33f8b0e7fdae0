// Throughput of the receiver: signed deliveries POSTed over loopback with N in flight, each one
// acknowledged only after its line is fdatasync'ed. Prints deliveries/s and per-request latency.
// Run: npx tsx bench/receiver-throughput.ts [deliveries=5000] [concurrency=1,8,64]
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startReceiver } from '../src/receiver';
import { signDelivery } from '../src/webhook-delivery/signature';

const total = Number(process.argv[2] ?? 5000);
const concurrencies = (process.argv[3] ?? '1,8,64').split(',').map(Number);

async function measure(concurrency: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-bench-'));
  const secret = randomBytes(32).toString('base64');
  const outFile = join(dir, 'out.ndjson');
  const receiver = await startReceiver({ port: 0, secrets: [secret], outFile });
  const dispatcher = new Agent({ connections: concurrency });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < total) {
      const index = next++;
      const deliveryId = `dlv_${randomUUID()}`;
      const body = JSON.stringify({
        type: 'batch.item.predicted',
        deliveryId,
        projectId: 'proj_00000000000000000000000000000001',
        jobId: 'job_bench',
        datasetId: 'dataset_bench',
        item: { kind: 'Image', url: `http://127.0.0.1/items/${index}.png` },
        predictions: [{ label: 'cat', confidence: 0.9, bbox: [0.1, 0.2, 0.3, 0.4] }],
        emulated: true,
        createTime: Date.now(),
      });
      const sent = performance.now();
      const response = await request(receiver.url, {
        method: 'POST',
        dispatcher,
        headers: {
          'content-type': 'application/json',
          ...signDelivery(secret, deliveryId, Math.floor(Date.now() / 1000), body),
        },
        body,
      });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(1);
  console.log(
    `concurrency ${String(concurrency).padStart(3)}: ${Math.round(total / seconds)} deliveries/s, ` +
      `p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, ${receiver.total} stored, file ${statSync(outFile).size} bytes`,
  );
  await receiver.close();
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
}

(async () => {
  for (const concurrency of concurrencies) await measure(concurrency);
})();

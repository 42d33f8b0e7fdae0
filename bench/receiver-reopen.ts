// Start-up cost of the receiver on a large results file: the delivery-id index is rebuilt by streaming
// the file, so memory grows with the number of ids, not with the file size.
// Run: npx tsx bench/receiver-reopen.ts [lines=200000]
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { PredictionStore } from '../src/receiver/prediction-store';

const lines = Number(process.argv[2] ?? 200_000);

(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-reopen-'));
  const path = join(dir, 'results.ndjson');
  const out = createWriteStream(path);
  for (let index = 0; index < lines; index++) {
    const line = JSON.stringify({
      deliveryId: `dlv_${index.toString(16).padStart(32, '0')}`,
      jobId: `batchjob_${index % 20}`,
      datasetId: 'dataset_bench',
      item: { kind: 'Image', url: `https://images.example.com/bucket/items/${index}.jpg` },
      predictions: Array.from({ length: 5 }, () => ({ label: 'cat', confidence: 0.91, bbox: [0.1, 0.2, 0.3, 0.4] })),
      receivedAt: new Date().toISOString(),
    });
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  const sizeMb = statSync(path).size / 1e6;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const store = await PredictionStore.open(path);
  const seconds = (performance.now() - started) / 1000;
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
  console.log(
    `reopened ${store.total} predictions (${sizeMb.toFixed(0)} MB file) in ${seconds.toFixed(2)} s, ` +
      `${Math.round(sizeMb / seconds)} MB/s, RSS +${rssGrowthMb.toFixed(0)} MB`,
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
})();

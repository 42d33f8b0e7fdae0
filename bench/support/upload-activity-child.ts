// The worker's own dataset activities (validateSource, then uploadDataset) on one local file, in a process
// of their own so the RSS measured is theirs. argv: <apiBaseUrl> <file>. Prints one JSON line:
// { itemCount, sizeBytes, validateSeconds, uploadSeconds, baselineMb, validatePeakGrowthMb, peakGrowthMb }.
// Used by bench/upload-memory.ts (--activity) and test/activities/upload-memory.test.ts.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type SourceSummary } from '../../src/activities';

const MB = 1024 * 1024;
const [baseUrl, file] = process.argv.slice(2);

async function main(): Promise<void> {
  const activities = createActivities({ secretKey: 'k', projectId: 'proj_discard', baseUrl, logsDir: '/tmp' });
  const env = new MockActivityEnvironment();
  const source = { ndjsonPath: file };
  // A worker has made API calls before: undici's HTTP parser (WebAssembly) is loaded and compiled on the
  // first one, a fixed cost that is not the upload's. One small call first, then the baseline.
  await env.run(activities.deleteDatasetsNamed, 'warm-up');
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const started = performance.now();
  const expected: SourceSummary = await env.run(activities.validateSource, source);
  const validated = performance.now();
  const validatePeak = Math.max(peak, process.memoryUsage().rss);
  await env.run(activities.uploadDataset, { name: 'memory', source, expected });
  const ended = performance.now();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const report = {
    itemCount: expected.itemCount,
    sizeBytes: expected.sizeBytes,
    crc32c: expected.crc32c,
    validateSeconds: (validated - started) / 1000,
    uploadSeconds: (ended - validated) / 1000,
    baselineMb: baseline / MB,
    validatePeakGrowthMb: (validatePeak - baseline) / MB,
    peakGrowthMb: (peak - baseline) / MB,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

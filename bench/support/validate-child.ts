// One validation + CRC32C pass in its own process (so its peak RSS is its own); prints {seconds, itemCount}.
// argv: <file> <path|stream>. `stream` reads through a stream factory, as the worker's activity does.
// BENCH_SRC points at another checkout's src/ to measure it the same way (e.g. the commit before a change).
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

const src = process.env.BENCH_SRC ?? join(__dirname, '..', '..', 'src');
const { validateNdjson } = require(join(src, 'datature-api')) as typeof import('../../src/datature-api');
const [file, mode] = process.argv.slice(2);

async function main() {
  const started = performance.now();
  const source = mode === 'stream' ? () => createReadStream(file, { highWaterMark: 256 * 1024 }) : file;
  const described = await validateNdjson(source);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, itemCount: described.itemCount })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

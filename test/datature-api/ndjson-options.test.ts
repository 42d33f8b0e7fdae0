// validateNdjson's options for callers that read big files (the worker's validateSource activity): the
// running byte count after each chunk, and a signal that stops a file read between chunks.
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateNdjson } from '../../src/datature-api';

const MIB = 1024 * 1024;
let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ndjson-options-'));
  file = join(dir, 'items.ndjson');
  const line = '{"kind":"Image","url":"https://a.test/1.png"}\n';
  writeFileSync(file, line.repeat(Math.ceil((3 * MIB) / line.length)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['a file path', () => file],
  ['a stream factory', () => () => createReadStream(file)],
])('onBytesRead counts up to the size, for %s', async (_label, source) => {
  const counts: number[] = [];
  const described = await validateNdjson(source(), { onBytesRead: (n) => counts.push(n) });
  expect(counts.at(-1)).toBe(described.sizeBytes);
  expect(counts).toEqual([...counts].sort((a, b) => a - b));
  expect(counts.length).toBeGreaterThan(1);
});

test('an aborted signal stops a file read', async () => {
  const controller = new AbortController();
  let reads = 0;
  const reading = validateNdjson(file, {
    signal: controller.signal,
    onBytesRead: () => {
      reads++;
      controller.abort();
    },
  });
  await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  expect(reads).toBe(1);
});

// A large file is checked in two halves at once (the second on a worker thread): the halves' findings must
// join to exactly what one pass reports, wherever the seam falls. Small files take one pass, so the halves
// are tried here through `validateFileInTwo` at every line start; one large file goes through `validateNdjson`.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Crc32c, NdjsonValidationError, validateNdjson } from '../../src/datature-api';
import { validateFileInTwo } from '../../src/datature-api/ndjson';

const ok = (n: number) => `{"kind":"Image","url":"https://signed.url/image${n}.jpg"}`;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ndjson-split-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The description, or the validation error's lines and count, as comparable JSON. */
async function outcomeOf(pass: Promise<unknown>): Promise<string> {
  try {
    return JSON.stringify(await pass);
  } catch (err) {
    if (!(err instanceof NdjsonValidationError)) throw err;
    return JSON.stringify({ errors: err.errors, totalErrors: err.totalErrors, message: err.message });
  }
}

describe('the two halves of a file report what one pass does', () => {
  test.each([
    ['good lines', `${ok(1)}\n${ok(2)}\n${ok(3)}\n`],
    ['no final newline', `${ok(1)}\n${ok(2)}\n${ok(3)}`],
    ['one blank last line', `${ok(1)}\n${ok(2)}\n\n`],
    ['blank lines on either side of any seam', `${ok(1)}\n\n${ok(2)}\n\n\n${ok(3)}\n\n`],
    ['bad lines and a blank one', `${ok(1)}\nnull\n\n${ok(2)}\n{"x":1}\n${ok(3)}`],
    ['a byte order mark (only the first line has one)', `\ufeff${ok(1)}\n\ufeff${ok(2)}\r\n${ok(3)}\n`],
    ['CRLF and a blank CRLF line', `${ok(1)}\r\n\r\n${ok(2)}\r\n`],
    ['more bad lines than are listed', `${'null\n'.repeat(60)}${ok(1)}\n${'[]\n'.repeat(60)}`],
    ['a line too long', `${ok(1)}\n{"kind":"Image","url":"https://a.test/${'a'.repeat(70_000)}"}\n${ok(2)}\n`],
  ])(
    '%s',
    async (_name, text) => {
      const path = join(dir, 'file.ndjson');
      writeFileSync(path, text);
      const onePass = await outcomeOf(validateNdjson(path));
      const lineStarts = [...text.matchAll(/\n/g)].map((match) => match.index! + 1).filter((at) => at < text.length);
      expect(lineStarts.length).toBeGreaterThan(1);
      for (const seam of lineStarts) {
        expect({ seam, outcome: await outcomeOf(validateFileInTwo(path, seam)) }).toEqual({ seam, outcome: onePass });
      }
    },
    60_000,
  );
});

describe('a large file', () => {
  const size = 130 * 1024 * 1024;
  let path: string;

  beforeAll(() => {
    path = join(dir, 'large.ndjson');
    // 130 MiB of items with two bad lines: one near the start, one past the middle (in the worker's half).
    const line = Buffer.from(`${ok(123456)}\n`);
    const block = Buffer.concat(Array.from({ length: 16384 }, () => line));
    const file = openSync(path, 'w');
    let written = 0;
    let lines = 0;
    while (written + block.length <= size) {
      written += writeSync(file, block);
      lines += 16384;
      if (lines === 16384) written += writeSync(file, 'null\n');
      if (written > size * 0.75 && written - block.length <= size * 0.75)
        written += writeSync(file, '{"kind":"Video"}\n');
    }
    closeSync(file);
  });

  test('is checked in halves to the same lines, size and CRC32C', async () => {
    let lastBytesRead = 0;
    const err = await validateNdjson(path, { onBytesRead: (bytes) => (lastBytesRead = bytes) }).catch((e) => e);
    expect(err).toBeInstanceOf(NdjsonValidationError);
    const bytes = readFileSync(path);
    const text = bytes.toString('latin1');
    const lineOf = (needle: string) => text.slice(0, text.indexOf(needle)).split('\n').length;
    expect((err as NdjsonValidationError).errors).toEqual([
      { line: lineOf('null\n'), message: expect.stringMatching(/expected a JSON object/) },
      { line: lineOf('{"kind":"Video"}'), message: expect.stringMatching(/"kind" must be "Image"/) },
    ]);
    expect(lastBytesRead).toBe(bytes.length);

    // Without the two bad lines: the description, CRC32C included, of the whole file.
    const fixed = text.replace('null\n', '').replace('{"kind":"Video"}\n', '');
    writeFileSync(path, fixed, 'latin1');
    const fixedBytes = Buffer.from(fixed, 'latin1');
    expect(await validateNdjson(path)).toEqual({
      itemCount: fixed.split('\n').length - 1,
      sizeBytes: fixedBytes.length,
      crc32c: new Crc32c().update(fixedBytes).base64(),
    });
  }, 120_000);

  test('an abort stops both halves', async () => {
    const aborted = new AbortController();
    const pass = validateNdjson(path, { signal: aborted.signal, onBytesRead: () => aborted.abort() });
    await expect(pass).rejects.toThrow(/abort/i);
  }, 60_000);
});

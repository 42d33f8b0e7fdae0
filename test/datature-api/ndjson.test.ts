import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  Crc32c,
  DatatureClient,
  DatatureValidationError,
  MAX_LINE_BYTES,
  NdjsonValidationError,
  validateNdjson,
} from '../../src/datature-api';
import { json, type LoopbackServer, startLoopbackServer } from './helpers/loopback-server';

const ok = (n: number) => `{"kind":"Image","url":"https://signed.url/image${n}.jpg"}`;

async function errorsOf(text: string | Buffer) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  try {
    await validateNdjson(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(NdjsonValidationError);
    return (err as NdjsonValidationError).errors;
  }
  throw new Error('expected the NDJSON to be rejected');
}

describe('validateNdjson accepts good files and describes them', () => {
  test('item count, size and CRC32C of the exact bytes', async () => {
    const text = `${ok(1)}\n${ok(2)}\n`;
    const described = await validateNdjson(Buffer.from(text));
    expect(described).toEqual({
      itemCount: 2,
      sizeBytes: Buffer.byteLength(text),
      crc32c: new Crc32c().update(Buffer.from(text)).base64(),
    });
  });

  test.each([
    ['no final newline', `${ok(1)}\n${ok(2)}`, 2],
    ['one blank last line', `${ok(1)}\n\n`, 1],
    ['CRLF line ends (tolerated: JSON treats \\r as whitespace)', `${ok(1)}\r\n${ok(2)}\r\n`, 2],
    ['http as well as https', '{"kind":"Image","url":"http://127.0.0.1:8080/a.jpg"}\n', 1],
    ['spaces around keys', '{ "kind" : "Image" , "url" : "https://x.test/a.jpg" }\n', 1],
  ])('%s', async (_name, text, itemCount) => {
    expect((await validateNdjson(Buffer.from(text))).itemCount).toBe(itemCount);
  });

  test('a line split across many tiny chunks, from a stream factory', async () => {
    const text = `${ok(1)}\n${ok(2)}\n`;
    const bytes = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    const described = await validateNdjson(() => Readable.from(bytes));
    expect(described.itemCount).toBe(2);
    expect(described.crc32c).toBe(new Crc32c().update(Buffer.from(text)).base64());
  });

  test.each([
    ['an empty file', ''],
    ['one blank line', '\n'],
  ])('with allowEmpty, %s describes zero items', async (_name, text) => {
    expect(await validateNdjson(Buffer.from(text), { allowEmpty: true })).toMatchObject({ itemCount: 0 });
  });

  test('allowEmpty still rejects a bad line', async () => {
    await expect(validateNdjson(Buffer.from('{"kind":"Image"}\n'), { allowEmpty: true })).rejects.toThrow(
      NdjsonValidationError,
    );
  });

  test('items given in memory', async () => {
    expect((await validateNdjson([{ kind: 'Image', url: 'https://a.test/1.jpg' }])).itemCount).toBe(1);
  });
});

describe('validateNdjson rejects bad input with the line and the reason', () => {
  test.each<[string, string | Buffer, { line: number; message: RegExp }[]]>([
    ['bad JSON', `${ok(1)}\n{"kind":"Image",\n`, [{ line: 2, message: /^not valid JSON/ }]],
    [
      'wrong kind',
      '{"kind":"Video","url":"https://a.test/v.mp4"}\n',
      [{ line: 1, message: /"kind" must be "Image", got "Video"/ }],
    ],
    ['missing kind', '{"url":"https://a.test/1.jpg"}\n', [{ line: 1, message: /missing "kind"/ }]],
    ['missing url', `${ok(1)}\n{"kind":"Image"}\n`, [{ line: 2, message: /missing "url"/ }]],
    [
      'non-http url',
      '{"kind":"Image","url":"ftp://a.test/1.jpg"}\n',
      [{ line: 1, message: /must be http\(s\), got "ftp"/ }],
    ],
    ['relative url', '{"kind":"Image","url":"images/1.jpg"}\n', [{ line: 1, message: /not a valid URL/ }]],
    [
      'raw tab inside the url string',
      '{"kind":"Image","url":"https://a.test/\t1.jpg"}\n',
      [{ line: 1, message: /^not valid JSON/ }],
    ],
    ['url not a string', '{"kind":"Image","url":42}\n', [{ line: 1, message: /"url" must be a string, got 42/ }]],
    [
      'array instead of object',
      '[{"kind":"Image","url":"https://a.test/1.jpg"}]\n',
      [{ line: 1, message: /got an array/ }],
    ],
    ['a bare string', '"https://a.test/1.jpg"\n', [{ line: 1, message: /expected a JSON object/ }]],
    ['null', 'null\n', [{ line: 1, message: /expected a JSON object.*got null/ }]],
    ['empty file', '', [{ line: 0, message: /the file is empty/ }]],
    [
      'only blank lines',
      '\n  \n\n',
      [
        { line: 1, message: /blank line/ },
        { line: 2, message: /blank line/ },
      ],
    ],
    ['a single blank line', '\n', [{ line: 0, message: /no items/ }]],
    ['blank line in the middle', `${ok(1)}\n\n${ok(2)}\n`, [{ line: 2, message: /blank line/ }]],
    ['UTF-8 BOM', `\ufeff${ok(1)}\n`, [{ line: 1, message: /byte order mark/ }]],
    ['trailing garbage after the object', `${ok(1)} xyz\n`, [{ line: 1, message: /^not valid JSON/ }]],
    ['two objects on one line', `${ok(1)}${ok(2)}\n`, [{ line: 1, message: /^not valid JSON/ }]],
    [
      'duplicate key',
      '{"kind":"Image","url":"https://a.test/1.jpg","url":"https://a.test/2.jpg"}\n',
      [{ line: 1, message: /"url" is given more than once/ }],
    ],
    [
      'unknown field',
      '{"kind":"Image","url":"https://a.test/1.jpg","id":"x"}\n',
      [{ line: 1, message: /unknown field "id"/ }],
    ],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"kind":"Image","url":"https://a.test/'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
      [{ line: 1, message: /not valid UTF-8/ }],
    ],
    [
      'huge line',
      `${ok(1)}\n{"kind":"Image","url":"https://a.test/${'a'.repeat(MAX_LINE_BYTES)}"}\n${ok(3)}\n`,
      [{ line: 2, message: new RegExp(`longer than ${MAX_LINE_BYTES} bytes`) }],
    ],
  ])('%s', async (_name, text, expected) => {
    const errors = await errorsOf(text);
    expect(errors).toHaveLength(expected.length);
    expected.forEach((want, i) => {
      expect(errors[i].line).toBe(want.line);
      expect(errors[i].message).toMatch(want.message);
    });
  });

  test('reports the first 100 errors, then "...and N more"', async () => {
    const text = Array.from({ length: 250 }, (_, i) =>
      i % 2 ? ok(i) : '{"kind":"Video","url":"https://a.test/v"}',
    ).join('\n');
    try {
      await validateNdjson(Buffer.from(text));
      throw new Error('not rejected');
    } catch (err) {
      const error = err as NdjsonValidationError;
      expect(error.errors).toHaveLength(100);
      expect(error.totalErrors).toBe(125);
      expect(error.errors[99].line).toBe(199);
      expect(error.message).toMatch(/^invalid NDJSON dataset \(125 errors\):\nline 1: "kind" must be "Image"/);
      expect(error.message.endsWith('...and 25 more')).toBe(true);
    }
  });

  test('a missing file names the path', async () => {
    await expect(validateNdjson('/nonexistent/items.ndjson')).rejects.toThrow(
      new DatatureValidationError('source', 'no such file: /nonexistent/items.ndjson'),
    );
  });
});

describe('the fast path for canonical lines agrees with the full check', () => {
  // Runs of canonical lines of one URL origin are matched in one go; each case below sits inside such a
  // run, after the origin is known, where only the fast path could get it wrong.
  const run = (n: number, host = 'cdn.test') =>
    Array.from({ length: n }, (_, i) => `{"kind":"Image","url":"https://${host}/${i}.jpg"}\n`).join('');

  test('lines, items and errors are counted inside and across runs of different origins', async () => {
    const long = `{"kind":"Image","url":"https://cdn.test/${'a'.repeat(MAX_LINE_BYTES)}"}\n`;
    const text = [
      run(3),
      run(2, 'other.test:8080'),
      run(2),
      '\n',
      run(1),
      long,
      run(1),
      '{"kind":"Image","url":"https://bad host.test/a.jpg"}\n',
      '{"kind":"Image","url":"https://999.1.1.1/a.jpg"}\n',
      '{"kind":"Image","url":"https:///no-host-but-valid.jpg"}\n',
      '{"kind":"Image","url":"https://cdn.test/\\u0041.jpg"}\n',
      '{"kind":"Image","url":"https://cdn.test/a.jpg"}\r\n',
      run(2),
    ].join('');
    const errors = await errorsOf(text);
    expect(errors).toEqual([
      { line: 8, message: 'blank line (only the last line may be blank)' },
      { line: 10, message: `longer than ${MAX_LINE_BYTES} bytes` },
      { line: 12, message: expect.stringMatching(/^"url" is not a valid URL/) },
      { line: 13, message: expect.stringMatching(/^"url" is not a valid URL/) },
    ]);
    const good = text
      .split('\n')
      .filter((_, i) => ![7, 9, 11, 12].includes(i))
      .join('\n');
    expect((await validateNdjson(Buffer.from(good))).itemCount).toBe(14);
  });

  test('a run split across chunks at every byte gives the same count', async () => {
    const text = Buffer.from(run(3) + run(3, 'b.test'));
    for (let cut = 1; cut < text.length; cut += 7) {
      const parts = [text.subarray(0, cut), text.subarray(cut)];
      expect((await validateNdjson(() => Readable.from(parts))).itemCount).toBe(6);
    }
  });
});

describe('datasets.create with an invalid file', () => {
  let server: LoopbackServer;
  let dir: string;
  beforeAll(async () => {
    server = await startLoopbackServer((_req, res) => json(res, 500, { message: 'must not be called' }));
    dir = mkdtempSync(join(tmpdir(), 'datature-api-ndjson-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('throws NdjsonValidationError and sends no HTTP request at all', async () => {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, `${ok(1)}\n{"kind":"Image","url":"file:///etc/passwd"}\n`);
    const client = new DatatureClient({ secretKey: 'k', projectId: 'p', baseUrl: server.url, maxRetries: 0 });
    await expect(client.datasets.create({ name: 'bad', source: file })).rejects.toThrow(/line 2: "url" must be http/);
    expect(server.requests).toHaveLength(0);

    // The same client does reach the server for a valid file: the zero above is not a dead server.
    writeFileSync(file, `${ok(1)}\n`);
    await expect(client.datasets.create({ name: 'good', source: file })).rejects.toThrow('must not be called');
    expect(server.requests).toHaveLength(1);
  });
});

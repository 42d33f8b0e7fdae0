// One streaming pass over a dataset file (over its two halves at once for a large file): every line checked
// against the only documented item shape `{"kind":"Image","url":"http(s)://..."}`, plus the size and CRC32C
// the API's create call needs.
// Memory stays constant whatever the file size: only the current line is held, and it is capped.
//
// The rules (test/datature-api/ndjson.test.ts pins each one):
// - LF ends a line; CRLF is tolerated (a final `\r` is ignored): JSON treats it as whitespace and the
//   emulator's line reader accepts it, so rejecting it would only annoy Windows users.
// - The file may end with or without a newline, and one blank last line is allowed; any other blank line
//   is an error, as is a file with no item at all.
// - A UTF-8 byte order mark, invalid UTF-8, a key given twice, or a field other than `kind`/`url`
//   is an error: the hosted API documents nothing beyond those two fields.
import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { Crc32c, combineCrc32c, digestBase64, NATIVE_CRC32C, ParallelCrc32c } from './crc32c';
import { fileChunks, type NdjsonSource, sourceOpener } from './dataset-source';
import { DatatureValidationError, type NdjsonLineError, NdjsonValidationError } from './errors';

export interface NdjsonDescription {
  itemCount: number;
  sizeBytes: number;
  /** Base64 of the big-endian CRC32C of the bytes, the API's `crc32c` field. */
  crc32c: string;
}

/** Signed image URLs are a few KiB at most; a longer line is certainly not an item. */
export const MAX_LINE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const READ_CHUNK_BYTES = 1024 * 1024;
/** A worker thread costs a few ms and MB to start: worth it for files, not for a few items. */
const PARALLEL_CRC_AFTER_BYTES = 8 * 1024 * 1024;
/**
 * Only the pure-JS CRC32C (when the native one does not load) goes to a worker thread: the CPU's instruction
 * hashes a chunk in less time than copying it there. On one core the worker would only take turns with this thread.
 */
const PARALLEL_CRC = !NATIVE_CRC32C && availableParallelism() > 1;
/**
 * From this size a file is checked in two halves at once, the second on a worker thread (which costs tens of
 * ms to start): on two cores the pass takes about half the time. Each half is checked as one pass would, and
 * the halves' findings are joined (line numbers, a blank line at the seam, the CRC32C) to the same answer.
 */
const SPLIT_PASS_AFTER_BYTES = 128 * 1024 * 1024;
const SPLIT_PASS = availableParallelism() > 1;
/** Below V8's 128 KiB limit for objects of the young generation. */
const SCAN_PIECE_BYTES = 64 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const BLANK_LINE = 'blank line (only the last line may be blank)';

export interface NdjsonValidationOptions {
  /** A source with no item (empty, or one blank line) describes `itemCount: 0` instead of being an error. */
  allowEmpty?: boolean;
  /** Stops reading a file path between chunks (a stream given as a function handles its own cancellation). */
  signal?: AbortSignal;
  /** The running count of bytes read, after each chunk (an activity heartbeats it). */
  onBytesRead?: (readBytes: number) => void;
}

/** Reads the source once; throws NdjsonValidationError listing the first 100 bad lines. */
export async function validateNdjson(
  source: NdjsonSource,
  options: NdjsonValidationOptions = {},
): Promise<NdjsonDescription> {
  try {
    if (typeof source === 'string' && SPLIT_PASS) {
      const { size } = await stat(source);
      if (size >= SPLIT_PASS_AFTER_BYTES) return await validateFileInTwo(source, size / 2, options);
    }
    const part = await checkPart(source, { ...options, atFileStart: true });
    return describeParts([part], options.allowEmpty ?? false);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof source === 'string' && code === 'ENOENT') {
      const missing = new DatatureValidationError('source', `no such file: ${source}`);
      missing.cause = err; // the file system's own error, for callers that branch on its code
      throw missing;
    }
    throw err;
  }
}

/** What one pass over a part of the source found: joined with the other parts' by `describeParts`. */
export interface PartCheck {
  itemCount: number;
  /** Lines ended in this part (its last line ends with the part, newline or not). */
  lineCount: number;
  /** Line numbers count from the part's first line. */
  errors: NdjsonLineError[];
  errorCount: number;
  /** The part's last line when it is blank (an error only if another line follows). */
  trailingBlankLine: number;
  sizeBytes: number;
  /** The part's CRC32C digest. */
  crc: number;
}

interface PartOptions extends NdjsonValidationOptions {
  /** Whether the part starts the file (where a byte order mark is looked for). */
  atFileStart: boolean;
  /** A file's byte range [start, end). */
  start?: number;
  end?: number;
}

/** One pass over the source (or a file's byte range): the lines checked and the bytes hashed. */
export async function checkPart(source: NdjsonSource, options: PartOptions): Promise<PartCheck> {
  const checker = new NdjsonChecker(options.atFileStart);
  const crc = new Crc32c();
  // Past PARALLEL_CRC_AFTER_BYTES, a pure-JS CRC continues on a worker thread while this one checks the lines;
  // not for a half of a file, whose other half already has the other core.
  const wholeSource = options.start === undefined && options.end === undefined;
  let parallel: ParallelCrc32c | undefined;
  let sizeBytes = 0;
  try {
    for await (const bytes of chunksOf(source, options)) {
      if (parallel) await parallel.update(bytes);
      else {
        crc.update(bytes);
        if (sizeBytes + bytes.length >= PARALLEL_CRC_AFTER_BYTES && PARALLEL_CRC && wholeSource) {
          parallel = new ParallelCrc32c(READ_CHUNK_BYTES, crc);
        }
      }
      sizeBytes += bytes.length;
      checker.push(bytes);
      options.onBytesRead?.(sizeBytes);
    }
    return { ...checker.endPart(), sizeBytes, crc: parallel ? await parallel.value() : crc.value() };
  } finally {
    await parallel?.close();
  }
}

/**
 * The two halves of a file at once: `[0, seam)` on this thread, the rest on a worker thread, the seam being
 * the first line start at or after `near`. Exported for the tests, which try every seam.
 */
export async function validateFileInTwo(
  path: string,
  near: number,
  options: NdjsonValidationOptions = {},
): Promise<NdjsonDescription> {
  const seam = await lineStartAtOrAfter(path, Math.floor(near));
  if (seam === undefined)
    return describeParts([await checkPart(path, { ...options, atFileStart: true })], options.allowEmpty ?? false);
  const read = [0, 0];
  const onBytesRead = (half: number) => (bytes: number) => {
    read[half] = bytes;
    options.onBytesRead?.(read[0] + read[1]);
  };
  const second = new SecondHalf(path, seam, options.signal, onBytesRead(1));
  try {
    const first = await checkPart(path, { ...options, atFileStart: true, end: seam, onBytesRead: onBytesRead(0) });
    return describeParts([first, await second.result], options.allowEmpty ?? false);
  } finally {
    await second.close();
  }
}

/** Where the line holding byte `near` ends (the next line's start), or undefined when no newline follows nearby. */
async function lineStartAtOrAfter(path: string, near: number): Promise<number | undefined> {
  if (near <= 0) return undefined;
  const file = await open(path, 'r');
  try {
    // A valid line is at most MAX_LINE_BYTES: a seam is found within one more, or the halves would not pay.
    const window = Buffer.allocUnsafe(MAX_LINE_BYTES + 1);
    const { bytesRead } = await file.read(window, 0, window.length, near - 1);
    const newline = window.subarray(0, bytesRead).indexOf(NEWLINE);
    if (newline === -1) return undefined;
    const seam = near + newline;
    return seam < (await file.stat()).size ? seam : undefined;
  } finally {
    await file.close();
  }
}

/**
 * The worker thread checking a file from `start` to its end. It loads this module (through tsx when it is the
 * TypeScript source, in a checkout or under jest) and answers with its PartCheck.
 */
const SECOND_HALF_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.tsx) require(workerData.tsx).register();
const { checkPart } = require(workerData.module);
const aborted = new AbortController();
parentPort.on('message', () => aborted.abort());
checkPart(workerData.path, {
  atFileStart: false,
  start: workerData.start,
  signal: aborted.signal,
  onBytesRead: (bytesRead) => parentPort.postMessage({ bytesRead }),
}).then(
  (part) => parentPort.postMessage({ part }),
  (err) => parentPort.postMessage({ error: { message: err.message, code: err.code, name: err.name } }),
);
`;

class SecondHalf {
  readonly result: Promise<PartCheck>;
  private readonly worker: Worker;
  private readonly onAbort = () => this.worker.postMessage('abort');

  constructor(
    path: string,
    start: number,
    private readonly signal: AbortSignal | undefined,
    onBytesRead: (bytes: number) => void,
  ) {
    const tsx = __filename.endsWith('.ts') ? require.resolve('tsx/cjs/api') : undefined;
    this.worker = new Worker(SECOND_HALF_WORKER, {
      eval: true,
      workerData: { path, start, module: __filename, tsx },
      // Its garbage is small strings that die young: a small young generation keeps its RSS down, at no cost in speed.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.result = new Promise<PartCheck>((resolve, reject) => {
      this.worker.on(
        'message',
        (message: { bytesRead?: number; part?: PartCheck; error?: Error & { code?: string } }) => {
          if (message.bytesRead !== undefined) onBytesRead(message.bytesRead);
          else if (message.part) resolve(message.part);
          else if (message.error) reject(Object.assign(new Error(message.error.message), message.error));
        },
      );
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the NDJSON check's worker thread exited (${code})`)));
    });
    // Awaited by the caller only once the first half is done: a failure before then is not unhandled.
    this.result.catch(() => {});
  }

  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    await this.worker.terminate();
  }
}

/** The parts' findings in order, as one pass over all of them would report them; throws when any line is bad. */
function describeParts(parts: PartCheck[], allowEmpty: boolean): NdjsonDescription {
  const errors: NdjsonLineError[] = [];
  let errorCount = 0;
  let itemCount = 0;
  let lineOffset = 0;
  let sawBytes = false;
  /** A blank line ending an earlier part, reported when a line follows. */
  let trailingBlank = 0;
  const report = (error: NdjsonLineError) => {
    errorCount++;
    if (errors.length < NdjsonValidationError.MAX_REPORTED) errors.push(error);
  };
  for (const part of parts) {
    if (part.sizeBytes > 0) sawBytes = true;
    if (trailingBlank && part.lineCount > 0) {
      report({ line: trailingBlank, message: BLANK_LINE });
      trailingBlank = 0;
    }
    for (const error of part.errors) {
      if (errors.length < NdjsonValidationError.MAX_REPORTED) errors.push({ ...error, line: error.line + lineOffset });
    }
    errorCount += part.errorCount;
    itemCount += part.itemCount;
    if (part.trailingBlankLine) trailingBlank = part.trailingBlankLine + lineOffset;
    lineOffset += part.lineCount;
  }
  if (!allowEmpty) {
    if (!sawBytes) report({ line: 0, message: 'the file is empty: a dataset needs at least one item' });
    else if (itemCount === 0 && errorCount === 0) report({ line: 0, message: 'no items: the only line is blank' });
  }
  if (errorCount > 0) throw new NdjsonValidationError(errors, errorCount);
  let crc = 0;
  let sizeBytes = 0;
  for (const part of parts) {
    crc = combineCrc32c(crc, part.crc, part.sizeBytes);
    sizeBytes += part.sizeBytes;
  }
  return { itemCount, sizeBytes, crc32c: digestBase64(crc) };
}

/** Each yielded chunk is valid only until the next: the checker is done with it by then. */
async function* chunksOf(
  source: NdjsonSource,
  { signal, start, end }: Pick<PartOptions, 'signal' | 'start' | 'end'>,
): AsyncGenerator<Buffer> {
  if (typeof source === 'string') {
    yield* fileChunks(source, { chunkBytes: READ_CHUNK_BYTES, buffers: 2, start, end, signal });
    return;
  }
  const stream: Readable = sourceOpener(source)();
  try {
    for await (const chunk of stream) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  } finally {
    stream.destroy();
  }
}

class NdjsonChecker {
  private readonly errors: NdjsonLineError[] = [];
  private errorCount = 0;
  private itemCount = 0;
  private lineNumber = 0;
  /** Bytes of the current line not yet ended by a newline (at most MAX_LINE_BYTES of them). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingTooLong = false;
  /** A blank line is only an error once another line follows it. */
  private blankLine = 0;
  private readonly origins = new KnownOrigins();

  /** `atFileStart`: the first line is the file's (where a byte order mark would be). */
  constructor(private readonly atFileStart: boolean) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.pendingBytes > 0 || this.pendingTooLong) {
      const end = chunk.indexOf(NEWLINE);
      if (end === -1) {
        this.append(chunk);
        return;
      }
      this.endLine(chunk.subarray(0, end));
      start = end + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    // Whole lines go to scanLines in pieces of at most SCAN_PIECE_BYTES (or one longer line): a string of
    // a megabyte would be allocated in V8's large-object space and stay there until a full GC, growing RSS
    // by about the file size; strings this small die young and cheaply.
    while (start <= last) {
      let end =
        start + SCAN_PIECE_BYTES > last ? last + 1 : chunk.lastIndexOf(NEWLINE, start + SCAN_PIECE_BYTES - 1) + 1;
      if (end <= start) end = chunk.indexOf(NEWLINE, start) + 1;
      this.scanLines(chunk, start, end);
      start = end;
    }
    this.append(chunk.subarray(start));
  }

  /**
   * The whole lines of `chunk[from, to)`. One latin1 string for all of them (a native copy), then, as long as
   * lines are canonical items of the last URL origin seen, one regular expression match over the whole run
   * of them (counted by their newlines). A line of the canonical shape with another origin is checked alone
   * (`FAST_ITEM`), any other line takes `endLine`: the full check with JSON.parse and the exact messages.
   */
  private scanLines(chunk: Buffer, from: number, to: number): void {
    const text = chunk.toString('latin1', from, to);
    let pos = 0;
    while (pos < text.length) {
      const run = this.origins.run();
      if (run) {
        run.lastIndex = pos;
        run.test(text);
        if (run.lastIndex > pos) {
          pos = this.countItems(text, pos, run.lastIndex);
          if (pos === run.lastIndex) continue;
        }
      }
      FAST_ITEM.lastIndex = pos;
      if (
        FAST_ITEM.test(text) &&
        FAST_ITEM.lastIndex - pos - 1 <= MAX_LINE_BYTES &&
        this.origins.knows(text, pos + FAST_URL_OFFSET)
      ) {
        this.countItems(text, pos, FAST_ITEM.lastIndex);
        pos = FAST_ITEM.lastIndex;
        continue;
      }
      const end = text.indexOf('\n', pos);
      this.endLine(chunk.subarray(from + pos, from + end));
      pos = end + 1;
    }
  }

  /**
   * Counts the newline-ended items of `text[from, to)`; returns `to`, or the start of the first line longer
   * than MAX_LINE_BYTES, which is left to `endLine`.
   */
  private countItems(text: string, from: number, to: number): number {
    let start = from;
    for (let end = text.indexOf('\n', start); end !== -1 && end < to; end = text.indexOf('\n', start)) {
      if (end - start > MAX_LINE_BYTES) return start;
      this.lineNumber++;
      if (this.blankLine) {
        this.report(this.blankLine, BLANK_LINE);
        this.blankLine = 0;
      }
      this.itemCount++;
      start = end + 1;
    }
    return start;
  }

  /** Ends the last line (with or without a newline) and says what was found. */
  endPart(): Omit<PartCheck, 'sizeBytes' | 'crc'> {
    if (this.pendingBytes > 0 || this.pendingTooLong) this.endLine(Buffer.alloc(0));
    return {
      itemCount: this.itemCount,
      lineCount: this.lineNumber,
      errors: this.errors,
      errorCount: this.errorCount,
      trailingBlankLine: this.blankLine,
    };
  }

  private append(part: Buffer): void {
    if (part.length === 0 || this.pendingTooLong) return;
    if (this.pendingBytes + part.length > MAX_LINE_BYTES) {
      this.pendingTooLong = true;
      this.pending = [];
      return;
    }
    // Copied: the chunk's buffer is reused for the next read.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  /** `lastPart` (up to the newline) completes the pending bytes; most lines fit in one chunk and are not copied. */
  private endLine(lastPart: Buffer): void {
    this.lineNumber++;
    const tooLong = this.pendingTooLong || this.pendingBytes + lastPart.length > MAX_LINE_BYTES;
    const bytes = this.pending.length === 0 ? lastPart : Buffer.concat([...this.pending, lastPart]);
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTooLong = false;
    if (this.blankLine) {
      this.report(this.blankLine, BLANK_LINE);
      this.blankLine = 0;
    }
    if (tooLong) this.report(this.lineNumber, `longer than ${MAX_LINE_BYTES} bytes`);
    else this.checkLine(bytes);
  }

  private checkLine(raw: Buffer): void {
    const line = this.lineNumber;
    let bytes = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
    if (line === 1 && this.atFileStart && bytes.subarray(0, 3).equals(UTF8_BOM)) {
      this.report(line, 'starts with a UTF-8 byte order mark (BOM); save the file as UTF-8 without BOM');
      bytes = bytes.subarray(3);
    }
    if (!isUtf8(bytes)) {
      this.report(line, 'not valid UTF-8');
      return;
    }
    const text = bytes.toString('utf8');
    if (text.trim() === '') {
      this.blankLine = line;
      return;
    }
    const problem = itemProblem(text);
    if (problem) this.report(line, problem);
    else this.itemCount++;
  }

  private report(line: number, message: string): void {
    this.errorCount++;
    if (this.errors.length < NdjsonValidationError.MAX_REPORTED) this.errors.push({ line, message });
  }
}

/**
 * The byte-level fast path: the exact line `{"kind":"Image","url":"http(s)://…"}` (optionally CRLF) whose URL
 * holds only printable ASCII other than `"` and `\\`, so that it is valid JSON and UTF-8 and the string's
 * value is its bytes. Such a URL is valid exactly when its origin (scheme and authority) is: after the host,
 * the URL parser percent-encodes what it does not like and never fails. So each origin is parsed once.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class excludes control characters, which make a JSON string invalid
const FAST_ITEM = /\{"kind":"Image","url":"https?:\/\/[^"\\\x00-\x1f\x7f-\uffff]+"\}\r?\n/y;
const FAST_URL_OFFSET = '{"kind":"Image","url":"'.length;
/** Characters that end an origin in a fast-path URL (the closing quote included). */
const ORIGIN_END = /[/?#"]/g;
const ORIGIN_ENDS = new Set(['/', '?', '#', '"'].map((c) => c.charCodeAt(0)));
/** Datasets hold a few hosts; a file of a million distinct ones still works, only through URL.canParse. */
const MAX_KNOWN_ORIGINS = 64;

/** Origins (`https://host:port`) of fast-path URLs already found valid by `URL.canParse`. */
class KnownOrigins {
  private readonly valid = new Set<string>();
  private last = '';
  private lastRun: RegExp | undefined;

  /** Matches a run of canonical item lines (newlines included) whose URLs have the last origin seen. */
  run(): RegExp | undefined {
    if (!this.lastRun && this.last) {
      const origin = this.last.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      this.lastRun = new RegExp(
        `(?:\\{"kind":"Image","url":"${origin}(?:[/?#][^"\\\\\\x00-\\x1f\\x7f-\\uffff]*)?"\\}\\r?\\n)*`,
        'y',
      );
    }
    return this.lastRun;
  }

  /** Whether the fast-path URL at `text[at]` has a valid, non-empty authority. */
  knows(text: string, at: number): boolean {
    const { last } = this;
    if (last && text.startsWith(last, at) && ORIGIN_ENDS.has(text.charCodeAt(at + last.length))) return true;
    ORIGIN_END.lastIndex = text.indexOf('//', at) + 2;
    ORIGIN_END.test(text);
    const origin = text.slice(at, ORIGIN_END.lastIndex - 1);
    if (this.valid.has(origin)) {
      this.remember(origin);
      return true;
    }
    // An empty authority fails here (`https:///`) though the whole URL may be valid (`https:///a`): the full check decides.
    if (!URL.canParse(`${origin}/`)) return false;
    if (this.valid.size >= MAX_KNOWN_ORIGINS) this.valid.clear();
    this.valid.add(origin);
    this.remember(origin);
    return true;
  }

  private remember(origin: string): void {
    this.last = origin;
    this.lastRun = undefined;
  }
}

/** The shape nearly every line has, checked without JSON.parse (no escapes, so the capture is the URL). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: raw control characters make a JSON string invalid, so lines holding one must take the JSON.parse path
const CANONICAL_ITEM = /^\s*\{\s*"kind"\s*:\s*"Image"\s*,\s*"url"\s*:\s*"([^"\\\x00-\x1f]*)"\s*\}\s*$/;

const DUPLICATE_KEY_PATTERNS = [
  ['kind', /"kind"\s*:/g],
  ['url', /"url"\s*:/g],
] as const;

/** Why one non-blank line is not an item, or undefined when it is one. */
function itemProblem(text: string): string | undefined {
  const canonical = CANONICAL_ITEM.exec(text);
  if (canonical) return urlProblem(canonical[1]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `expected a JSON object like {"kind":"Image","url":"https://..."}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`;
  }
  // JSON.parse silently keeps the last of two equal keys; the API might keep the first.
  for (const [key, pattern] of DUPLICATE_KEY_PATTERNS) {
    if (text.indexOf(`"${key}"`) !== text.lastIndexOf(`"${key}"`) && (text.match(pattern) ?? []).length > 1) {
      return `"${key}" is given more than once`;
    }
  }
  const item = value as Record<string, unknown>;
  const unknown = Object.keys(item).filter((key) => key !== 'kind' && key !== 'url');
  if (unknown.length) return `unknown field ${JSON.stringify(unknown[0])}: only "kind" and "url" are supported`;
  if (!('kind' in item)) return 'missing "kind" (must be "Image")';
  if (item.kind !== 'Image') return `"kind" must be "Image", got ${JSON.stringify(item.kind)}`;
  if (!('url' in item)) return 'missing "url"';
  if (typeof item.url !== 'string') return `"url" must be a string, got ${JSON.stringify(item.url)}`;
  return urlProblem(item.url);
}

function urlProblem(url: string): string | undefined {
  // The common case without allocating a URL object: it matters at millions of lines.
  const scheme = url.slice(0, 8).toLowerCase();
  if ((scheme.startsWith('https://') || scheme.startsWith('http://')) && URL.canParse(url)) return undefined;
  if (!URL.canParse(url)) return `"url" is not a valid URL: ${JSON.stringify(url.slice(0, 200))}`;
  const protocol = new URL(url).protocol.slice(0, -1);
  if (protocol === 'http' || protocol === 'https') return `"url" must start with ${protocol}:// (no leading spaces)`;
  return `"url" must be http(s), got ${JSON.stringify(protocol)}`;
}

// The validateSource activity's answer to a source it cannot read: a missing file or a 4xx fails at once
// (non-retryable, naming the source), a 5xx stays retryable. Sources are real files and a loopback server;
// MockActivityEnvironment only gives the activity its context, as a worker would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SourceSummary } from '../../src/activities';
import { validateSource } from '../../src/activities/datasets';
import type { DatasetSourceInput } from '../../src/workflows/definitions';
import { type LoopbackServer, startLoopbackServer } from '../datature-api/helpers/loopback-server';

let dir: string;
let server: LoopbackServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'validate-source-'));
  server = await startLoopbackServer((req, res) => {
    const status = Number(new URL(req.url, 'http://x').pathname.slice(1));
    res.writeHead(status).end(status === 200 ? '{"kind":"Image","url":"https://a.test/1.png"}\n' : 'no');
  });
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await server.close();
});

async function failureOf(source: DatasetSourceInput): Promise<ApplicationFailure> {
  try {
    await new MockActivityEnvironment().run(validateSource, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected validateSource to fail');
}

test('a missing file fails non-retryably, naming the path and the error code', async () => {
  const ndjsonPath = join(dir, 'no-such-file.ndjson');
  const failure = await failureOf({ ndjsonPath });
  expect(failure.message).toBe(`cannot read dataset source ${ndjsonPath}: ENOENT`);
  expect(failure.nonRetryable).toBe(true);
});

test('a directory instead of a file fails non-retryably', async () => {
  expect((await failureOf({ ndjsonPath: dir })).nonRetryable).toBe(true);
});

test.each([
  [404, true],
  [403, true],
  [503, false],
  [429, false],
])('a URL answering %i fails with nonRetryable=%s', async (status, nonRetryable) => {
  const ndjsonUrl = `${server.url}/${status}`;
  const failure = await failureOf({ ndjsonUrl });
  expect(failure.message).toBe(`cannot read dataset source ${ndjsonUrl}: HTTP ${status}`);
  expect(failure.nonRetryable).toBe(nonRetryable);
});

test("a signed URL's query (a credential) stays out of the message", async () => {
  const failure = await failureOf({ ndjsonUrl: `${server.url}/404?X-Goog-Signature=secret` });
  expect(failure.message).toBe(`cannot read dataset source ${server.url}/404?[REDACTED]: HTTP 404`);
});

test('a readable URL is described', async () => {
  const summary: SourceSummary = await new MockActivityEnvironment().run(validateSource, {
    ndjsonUrl: `${server.url}/200`,
  });
  expect(summary.itemCount).toBe(1);
});

test('an empty file is zero items only when allowed', async () => {
  const ndjsonPath = join(dir, 'empty.ndjson');
  writeFileSync(ndjsonPath, '');
  const summary: SourceSummary = await new MockActivityEnvironment().run(
    validateSource,
    { ndjsonPath },
    { allowEmpty: true },
  );
  expect(summary.itemCount).toBe(0);
  expect((await failureOf({ ndjsonPath })).message).toMatch(/the file is empty/);
});

test("a local file is read by the client's file path (reused 1 MiB buffers), not through a stream; heartbeats count its bytes", async () => {
  const ndjsonPath = join(dir, 'four-mib.ndjson');
  const line = '{"kind":"Image","url":"https://a.test/1.png"}\n';
  writeFileSync(ndjsonPath, line.repeat(Math.ceil((4 * 1024 * 1024) / line.length)));
  const env = new MockActivityEnvironment();
  const beats: number[] = [];
  env.on('heartbeat', (details: { readBytes: number }) => beats.push(details.readBytes));
  const summary: SourceSummary = await env.run(validateSource, { ndjsonPath });
  // The file path reads 1 MiB a time; a stream of the file would bring 256 KiB chunks (16 beats, not 5).
  expect(beats).toEqual([1, 2, 3, 4].map((mib) => mib * 1024 * 1024).concat(summary.sizeBytes));
});

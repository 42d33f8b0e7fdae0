// Opens the workflow's dataset source as fresh byte streams the Nexus client can read once per pass.
import { createReadStream } from 'node:fs';
import { PassThrough, pipeline, Readable, Transform } from 'node:stream';
import { request } from 'undici';
import type { DatasetSourceInput } from '../workflows/definitions';

const FILE_CHUNK_BYTES = 1024 * 1024;

export type ByteSource = Exclude<DatasetSourceInput, { datasetId: string }>;

function openRaw(source: ByteSource, signal: AbortSignal): Readable {
  if ('ndjsonPath' in source) return createReadStream(source.ndjsonPath, { highWaterMark: FILE_CHUNK_BYTES, signal });
  if ('items' in source) {
    return Readable.from([Buffer.from(source.items.map((item) => JSON.stringify(item) + '\n').join(''))]);
  }
  const out = new PassThrough();
  request(source.ndjsonUrl, { signal }).then(
    (response) => {
      if (response.statusCode !== 200) {
        response.body.dump().catch(() => {});
        out.destroy(new Error(`GET ${source.ndjsonUrl} answered ${response.statusCode}`));
        return;
      }
      pipeline(response.body, out, () => {});
    },
    (err: Error) => out.destroy(err),
  );
  return out;
}

/** A function opening the source from its start on each call; `onRead` sees the running byte count. */
export function sourceOpener(
  source: ByteSource,
  signal: AbortSignal,
  onRead?: (readBytes: number) => void,
): () => Readable {
  return () => {
    if (!onRead) return openRaw(source, signal);
    let readBytes = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        readBytes += chunk.length;
        onRead(readBytes);
        callback(null, chunk);
      },
    });
    pipeline(openRaw(source, signal), counting, () => {});
    return counting;
  };
}

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** An NDJSON dataset of at least `targetBytes`, lines like a signed-URL dataset's (about 110 bytes), 1000 at a time. */
export async function writeSignedUrlDataset(path: string, targetBytes: number): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  for (let i = 0; written < targetBytes; i++) {
    const lines: string[] = [];
    for (let j = 0; j < 1000; j++) {
      lines.push(
        `{"kind":"Image","url":"https://storage.example.com/bench/images/${i}/${j}.jpg?sig=${'x'.repeat(40)}"}\n`,
      );
    }
    const chunk = lines.join('');
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

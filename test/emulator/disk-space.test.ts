// The emulator gives disk back: deleting a 100 MiB dataset shrinks its SQLite file and WAL and removes
// the uploaded file, on a database that persists to disk as `datature-batch emulator --db` does.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DatatureClient } from '../../src/datature-api';
import { type RunningEmulator, startEmulator } from '../../src/emulator';

const MIB = 1024 * 1024;
const DATASET_MIB = 100;

let dir: string;
let dbPath: string;
let emulator: RunningEmulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emulator-disk-'));
  dbPath = join(dir, 'state.db');
  emulator = await startEmulator({ port: 0, dbPath, tickIntervalMs: 20 });
});

afterAll(async () => {
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** 100 MiB of items of 1 KiB each, generated as they are read. */
function* bigNdjson(): Generator<Buffer> {
  for (let block = 0; block < DATASET_MIB; block++) {
    const lines = Array.from({ length: 1024 }, (_, i) => {
      const head = `{"kind":"Image","url":"https://images.test/${block}/${i}.png?`;
      return `${head}${'a'.repeat(1024 - head.length - 3)}"}\n`;
    });
    yield Buffer.from(lines.join(''));
  }
}

/** The database, its WAL and the uploaded files: everything the emulator keeps on disk. */
function diskBytes(): number {
  const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter(existsSync);
  const dataDir = `${dbPath}.files`;
  const uploads = existsSync(dataDir) ? readdirSync(dataDir).map((name) => join(dataDir, name)) : [];
  return [...files, ...uploads].reduce((total, path) => total + statSync(path).size, 0);
}

test(`deleting a ${DATASET_MIB} MiB dataset shrinks the database and removes its file`, async () => {
  const datatureApi = new DatatureClient({
    secretKey: emulator.secretKey,
    projectId: emulator.projectId,
    baseUrl: emulator.url,
  });
  const empty = diskBytes();
  const dataset = await datatureApi.datasets.create({ name: 'big', source: () => Readable.from(bigNdjson()) });
  const uploaded = await datatureApi.datasets.waitUntilDone(dataset.id, { intervalMs: 100, timeoutMs: 110_000 });
  expect(uploaded.status.itemCount).toBe(DATASET_MIB * 1024);
  const full = diskBytes();
  // The items are in the database and the upload is kept: about twice the dataset on disk.
  expect(full - empty).toBeGreaterThan(DATASET_MIB * MIB);

  await datatureApi.datasets.delete(dataset.id);
  const after = diskBytes();
  console.log(
    `on disk: empty ${(empty / MIB).toFixed(1)} MiB, with the dataset ${(full / MIB).toFixed(1)} MiB, after delete ${(after / MIB).toFixed(1)} MiB`,
  );
  expect(readdirSync(`${dbPath}.files`)).toEqual([]);
  expect(statSync(dbPath).size).toBeLessThan(empty + 8 * MIB);
  expect(after).toBeLessThan(empty + 8 * MIB);
}, 120_000);

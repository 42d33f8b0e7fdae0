// docs/architecture.md's rule, kept true: a room of src/ is imported through its index.ts, except for the
// modules listed here with their reason (each also named in docs/architecture.md). Reads the imports as
// text (`from '…'`, `require('…')`, `import('…')`), so a new reach into a room fails here, not in review.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

const root = join(__dirname, '..', '..');
const src = join(root, 'src');

/**
 * Modules another room may import directly. The workflow room has no names index (its index.ts is the
 * workflow bundle's entry, workflow functions only): its dependency-free modules are imported one by one.
 * The others are import-free (nothing, node: built-ins, type-only or one small package), taken directly so
 * that the workflow sandbox or the CLI's eager startup does not load the room's index (undici, zod, the
 * Temporal client, OpenTelemetry).
 */
const DIRECT_IMPORTS: Record<string, string> = {
  'workflows/definitions': 'the workflow room (no names index)',
  'workflows/failures': 'the workflow room (no names index)',
  'workflows/retry-policy': 'the workflow room (no names index)',
  'workflows/durations': 'the workflow room (no names index)',
  'workflows/activity-contract': 'the workflow room (no names index)',
  'workflows/failed-items': 'the workflow room (no names index)',
  'datature-api/defaults': 'no imports: the CLI reads the default base URL at startup',
  'datature-api/errors': 'no imports: the CLI maps API errors to exit codes at startup',
  'datature-api/status-rules':
    'no imports: the item statuses and counters, used by the workflow sandbox, the CLI and the emulator',
  'datature-api/signed-url': 'no imports: the CLI and the run description mask signed URLs',
  'datature-api/crc32c': 'node: built-ins only: the emulator checks uploads without the API client',
  'run-client/input': 'zod only: the workflow sandbox checks its input (the index loads the Temporal client)',
  'run-client/connection': '@temporalio/envconfig only: the connection settings, read before the client SDK',
  'run-client/cancellation': 'type-only: the worker activity and the CLI send and read a cancel reason',
  'run-client/dataset-argument': 'node:path only: the CLI decides file or URL at startup',
  'schedules/batch-schedule-error': 'no imports: the CLI parses schedule flags before loading the SDK',
  'codec/codec-keys': 'node: built-ins only: the CLI maps a bad key file to its exit code at startup',
  'nexus-service/handlers': 'the worker only: the index stays workflow-safe for callers (no Temporal client)',
  'schedules/overlap-policies': 'type-only: the CLI parses --overlap before loading the SDK',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const rooms = new Set(readdirSync(src).filter((name) => statSync(join(src, name)).isDirectory()));

/** Every relative import of src/, as [importing file, imported module], both relative to src/ without `.ts`. */
function relativeImports(): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const pattern = /(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(pattern)) {
      const target = normalize(join(dirname(file), match[1]));
      found.push([relative(src, file).split(sep).join('/'), relative(src, target).split(sep).join('/')]);
    }
  }
  return found;
}

/** The imports that reach into another room past its index and are not listed. */
function reachesIn(imports: Array<[string, string]>): string[] {
  return imports
    .filter(([from, to]) => {
      const [room, ...inside] = to.split('/');
      if (!rooms.has(room) || inside.length === 0 || inside.join('/') === 'index') return false;
      return from.split('/')[0] !== room && !(to in DIRECT_IMPORTS);
    })
    .map(([from, to]) => `${from} -> ${to}`);
}

test('other rooms import a room only through its index.ts, or a module listed with its reason', () => {
  const imports = relativeImports();
  expect(imports.length).toBeGreaterThan(100);
  expect(reachesIn(imports)).toEqual([]);
});

test('the check notices a reach into a room', () => {
  expect(reachesIn([['cli/commands/run.ts', 'run-client/batch-prediction']])).toEqual([
    'cli/commands/run.ts -> run-client/batch-prediction',
  ]);
  expect(reachesIn([['cli/commands/run.ts', 'run-client']])).toEqual([]);
  expect(reachesIn([['emulator/store.ts', 'emulator/ids']])).toEqual([]);
});

test('every module that may be imported directly exists and is named in docs/architecture.md', () => {
  const docs = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  for (const module of Object.keys(DIRECT_IMPORTS)) {
    expect(statSync(join(src, `${module}.ts`)).isFile()).toBe(true);
    expect({ module, named: docs.includes(`${module}.ts`) }).toEqual({ module, named: true });
  }
});

test('the workflow room imports nothing from the activities (the contract is its own)', () => {
  const upward = relativeImports().filter(([from, to]) => from.startsWith('workflows/') && to.startsWith('activities'));
  expect(upward).toEqual([]);
});

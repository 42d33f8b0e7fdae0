import {
  datasetNameFor,
  failedItemsFileNamesFor,
  fnv1a64Hex,
  jobNameFor,
  logFileNameFor,
  roundItemsFileNameFor,
} from '../../src/workflows/resource-names';

const chain = (workflowId: string, firstExecutionRunId = 'run-a') => ({ workflowId, firstExecutionRunId });

test('resource names are deterministic per run chain, readable and at most 120 chars', () => {
  expect(datasetNameFor(chain('nightly/2026-11-28'))).toBe(datasetNameFor(chain('nightly/2026-11-28')));
  expect(datasetNameFor(chain('nightly/2026-11-28'))).toMatch(/^wf-ds-nightly-2026-11-28-[0-9a-f]{12}$/);
  expect(datasetNameFor(chain('a/b'))).not.toBe(datasetNameFor(chain('a-b')));
  expect(jobNameFor(chain('run-1'), 'cells')).toMatch(/^cells-[0-9a-f]{12}$/);
  const long = 'x'.repeat(500);
  expect(datasetNameFor(chain(long)).length).toBeLessThanOrEqual(120);
  expect(datasetNameFor(chain(long))).not.toBe(datasetNameFor(chain(long + 'y')));
  expect(logFileNameFor(chain('run/1'))).toMatch(/^run-1-[0-9a-f]{12}\.logs\.ndjson$/);
});

test('a new run reusing a workflow id gets names of its own', () => {
  expect(datasetNameFor(chain('nightly', 'run-a'))).not.toBe(datasetNameFor(chain('nightly', 'run-b')));
  expect(jobNameFor(chain('nightly', 'run-a'), 'cells')).not.toBe(jobNameFor(chain('nightly', 'run-b'), 'cells'));
  expect(logFileNameFor(chain('nightly', 'run-a'))).not.toBe(logFileNameFor(chain('nightly', 'run-b')));
});

test('the name hash is 64-bit FNV-1a', () => {
  const reference = (text: string) => {
    let hash = 0xcbf29ce484222325n;
    for (let i = 0; i < text.length; i++) {
      hash = ((hash ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
    }
    return hash.toString(16).padStart(16, '0');
  };
  expect(fnv1a64Hex('')).toBe('cbf29ce484222325');
  expect(fnv1a64Hex('a')).toBe('af63dc4c8601ec8c');
  for (const text of ['a', 'foobar', 'nightly/2026-11-28\n0190-run', '\u00ff\u00fe\u00fd', 'x'.repeat(300)]) {
    expect(fnv1a64Hex(text)).toBe(reference(text));
  }
});

test('each retry round has names of its own; round 1 keeps the names runs had before rounds existed', () => {
  const run = chain('nightly/1');
  expect(datasetNameFor(run, 1)).toBe(datasetNameFor(run));
  expect(jobNameFor(run, 'cells', 1)).toBe(jobNameFor(run, 'cells'));
  expect(logFileNameFor(run, 1)).toBe(logFileNameFor(run));
  expect(datasetNameFor(run, 2)).toMatch(/^wf-ds-nightly-1-r2-[0-9a-f]{12}$/);
  expect(jobNameFor(run, 'cells', 3)).toMatch(/^cells-r3-[0-9a-f]{12}$/);
  expect(jobNameFor(run, undefined, 2)).toMatch(/^wf-job-nightly-1-r2-[0-9a-f]{12}$/);
  expect(logFileNameFor(run, 2)).toMatch(/^nightly-1-[0-9a-f]{12}\.r2\.logs\.ndjson$/);
  expect(roundItemsFileNameFor(run, 2)).toMatch(/^nightly-1-[0-9a-f]{12}\.r2\.items\.ndjson$/);
  expect(failedItemsFileNamesFor(run)).toEqual({
    fileName: expect.stringMatching(/^nightly-1-[0-9a-f]{12}\.failed\.ndjson$/),
    reasonsFileName: expect.stringMatching(/^nightly-1-[0-9a-f]{12}\.failed\.reasons\.ndjson$/),
  });
  expect(datasetNameFor(chain('x'.repeat(500)), 2).length).toBeLessThanOrEqual(120);
});

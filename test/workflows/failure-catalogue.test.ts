// One catalogue of failure types: every ApplicationFailure raised in src/ takes its type from FailureType
// (no type spelled as a string, none borrowed from an error's name), every type is documented, and the
// errors callers branch on by class also say their name.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ApiError } from '../../src/emulator/http';
import { BatchScheduleError } from '../../src/schedules';
import { FailureType, isFailureType } from '../../src/workflows/failures';

const root = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The text of each `ApplicationFailure.create|nonRetryable|retryable(…)` call, its parentheses balanced. */
function failureCalls(text: string): string[] {
  const calls: string[] = [];
  const start = /ApplicationFailure\.(create|nonRetryable|retryable)\(/g;
  for (let match = start.exec(text); match; match = start.exec(text)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (depth > 0 && end < text.length) {
      if (text[end] === '(') depth++;
      if (text[end] === ')') depth--;
      end++;
    }
    calls.push(text.slice(match.index, end));
  }
  return calls;
}

/** The type a call gives, when it spells it as something other than a FailureType (or a variable holding one). */
function foreignType(call: string): string | undefined {
  const typed = /\btype:\s*([^,\n}]+)/.exec(call)?.[1]?.trim();
  if (typed !== undefined) return /^(FailureType\.\w+|type)$/.test(typed) ? undefined : typed;
  if (call.startsWith('ApplicationFailure.create(')) return undefined;
  // nonRetryable(message, type, …details) / retryable(message, type, …): the second argument.
  const second = /^ApplicationFailure\.\w+\(\s*(?:`[^`]*`|'[^']*'|[^,'`]+),\s*([^,)]+)/.exec(call)?.[1]?.trim();
  return second === undefined || /^FailureType\.\w+$/.test(second) ? undefined : second;
}

describe('the failure catalogue', () => {
  test('every ApplicationFailure in src/ takes its type from FailureType', () => {
    const foreign: string[] = [];
    let calls = 0;
    for (const file of sourceFiles(join(root, 'src'))) {
      for (const call of failureCalls(readFileSync(file, 'utf8'))) {
        calls++;
        const type = foreignType(call);
        if (type !== undefined) foreign.push(`${relative(root, file)}: ${type}`);
      }
    }
    expect(calls).toBeGreaterThan(15);
    expect(foreign).toEqual([]);
  });

  test('the scan notices a type spelled as a string or taken from an error name', () => {
    expect(foreignType("ApplicationFailure.nonRetryable('bad', 'SomethingElse')")).toBe("'SomethingElse'");
    expect(foreignType('ApplicationFailure.create({ message: err.message, type: err.name })')).toBe('err.name');
    expect(foreignType('ApplicationFailure.nonRetryable(\n  `no items`,\n  FailureType.EmptySource)')).toBeUndefined();
  });

  test('docs/pipeline.md lists every type', () => {
    const docs = readFileSync(join(root, 'docs', 'pipeline.md'), 'utf8');
    const missing = Object.values(FailureType).filter((type) => !docs.includes(`| \`${type}\` |`));
    expect(missing).toEqual([]);
  });

  test('the types spread over the activities are catalogued', () => {
    for (const type of ['DatasetUploadLost', 'SourceUnreadable', 'InvalidLogsDirectory', 'DatasetBusy']) {
      expect(isFailureType(type)).toBe(true);
    }
  });

  test('BatchScheduleError and the emulator’s ApiError say their name', () => {
    expect(new BatchScheduleError('x').name).toBe('BatchScheduleError');
    expect(new ApiError(400, 'x').name).toBe('ApiError');
    expect(String(new BatchScheduleError('two timings'))).toBe('BatchScheduleError: two timings');
  });
});

// Malformed datasets through the command a user runs, `run <file> --wait`, against a real worker: each run
// fails with a message naming the problem and its line, typed InvalidNdjson, and creates nothing on the API.
// Real dev server, emulator and worker; the CLI is the real binary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, runCli } from '../cli/run-cli';
import { useStackWithWorker } from './harness';

const taskQueue = 'e2e-malformed';
const suite = useStackWithWorker(taskQueue);

const ok = (n: number) => `{"kind":"Image","url":"https://a.test/${n}.jpg"}`;

/** [what, file content, what the message must say] */
const corpus: [string, string | Buffer, RegExp][] = [
  ['bad JSON on line 2', `${ok(1)}\n{"kind":"Image",\n`, /line 2: not valid JSON/],
  ['a Video item', '{"kind":"Video","url":"https://a.test/1.mp4"}\n', /line 1: "kind" must be "Image", got "Video"/],
  ['no kind', '{"url":"https://a.test/1.jpg"}\n', /line 1: missing "kind"/],
  ['no url on line 3', `${ok(1)}\n${ok(2)}\n{"kind":"Image"}\n`, /line 3: missing "url"/],
  ['an ftp url', '{"kind":"Image","url":"ftp://a.test/1.jpg"}\n', /line 1: .*must be http\(s\), got "ftp"/],
  ['a relative url', '{"kind":"Image","url":"images/1.jpg"}\n', /line 1: .*not a valid URL/],
  ['a url that is a number', '{"kind":"Image","url":42}\n', /line 1: "url" must be a string, got 42/],
  ['an array line', `[${ok(1)}]\n`, /line 1: .*got an array/],
  ['a bare string', '"https://a.test/1.jpg"\n', /line 1: expected a JSON object/],
  ['a null line', 'null\n', /line 1: expected a JSON object.*got null/],
  ['an empty file', '', /the file is empty/],
  ['only a blank line', '\n', /no items/],
  ['a blank line in the middle', `${ok(1)}\n\n${ok(2)}\n`, /line 2: blank line/],
  ['a UTF-8 byte order mark', `\ufeff${ok(1)}\n`, /line 1: .*byte order mark/],
  ['garbage after the object', `${ok(1)} xyz\n`, /line 1: not valid JSON/],
  ['two objects on one line', `${ok(1)}${ok(2)}\n`, /line 1: not valid JSON/],
  [
    'url given twice',
    '{"kind":"Image","url":"https://a.test/1.jpg","url":"https://a.test/2.jpg"}\n',
    /line 1: "url" is given more than once/,
  ],
  ['an unknown field', '{"kind":"Image","url":"https://a.test/1.jpg","id":"x"}\n', /line 1: unknown field "id"/],
  [
    'invalid UTF-8',
    Buffer.concat([
      Buffer.from('{"kind":"Image","url":"https://a.test/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.jpg"}\n'),
    ]),
    /line 1: .*not valid UTF-8/,
  ],
  [
    'errors on lines 2 and 4',
    `${ok(1)}\nnope\n${ok(3)}\n{"kind":"Image"}\n`,
    /line 2: not valid JSON.*line 4: missing "url"/s,
  ],
];

test(`${corpus.length} malformed files: each run fails naming the problem and its line, creating nothing`, async () => {
  expect(corpus.length).toBeGreaterThanOrEqual(20);
  const before = await suite.stack.emulatorState();
  const env = cleanEnv({ TEMPORAL_ADDRESS: suite.stack.env.address, TEMPORAL_TASK_QUEUE: taskQueue });
  for (const [index, [what, content, message]] of corpus.entries()) {
    const file = join(suite.stack.dir, `malformed-${index}.ndjson`);
    writeFileSync(file, content);
    const args = [
      'run',
      file,
      '--deployment',
      suite.stack.emulator.deploymentId,
      '--webhook',
      suite.stack.webhookId,
      '--wait',
    ];
    const result = await runCli([...args, '--workflow-id', `malformed-${index}`], env);
    const said = `${what}: ${result.stderr}`;
    expect({ what, code: result.code }).toEqual({ what, code: 1 });
    expect(said).toMatch(new RegExp(`^error: run malformed-${index} failed: invalid NDJSON dataset`, 'm'));
    expect(said).toMatch(message);
    expect(said).toMatch(/\[InvalidNdjson\]/);
    expect(said).not.toMatch(/Activity task failed/);
  }
  const after = await suite.stack.emulatorState();
  expect({ datasets: after.datasets, jobs: after.jobs }).toEqual({ datasets: before.datasets, jobs: before.jobs });
}, 240_000);

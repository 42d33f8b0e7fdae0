// POST /watches: a run tells the receiver its job; once a prediction per item is stored, the receiver calls
// onJobComplete once (the dev stack and the CLI turn that into the run's checkNow signal).
import { request } from 'undici';
import { type Receiver, startReceiver } from '../../src/receiver';
import { itemDelivery, newSecret, postSigned, tempDir } from './helpers';

const secret = newSecret();
let receiver: Receiver;
let folder: ReturnType<typeof tempDir>;
let completed: { jobId: string; workflowId: string; itemCount: number }[];

beforeEach(async () => {
  folder = tempDir();
  completed = [];
  receiver = await startReceiver({
    port: 0,
    secrets: [secret],
    outFile: `${folder.dir}/predictions.ndjson`,
    onJobComplete: (watch) => {
      completed.push(watch);
    },
  });
});

afterEach(async () => {
  await receiver.close();
  folder.remove();
});

async function watch(body: unknown) {
  const response = await request(`${receiver.url}/watches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

const deliver = (jobId: string, n: number) =>
  postSigned(receiver.url, itemDelivery({ jobId, item: { kind: 'Image', url: `http://127.0.0.1/items/${n}.jpg` } }), {
    secret,
  });

test('the run is notified once, when the last item of its job is stored, not before', async () => {
  expect(await watch({ jobId: 'job_a', itemCount: 3, workflowId: 'wf-a' })).toMatchObject({
    status: 200,
    body: { ok: true, predictions: 0, watching: true },
  });
  await deliver('job_a', 1);
  await deliver('job_a', 2);
  await deliver('job_other', 1);
  await receiver.notified();
  expect(completed).toEqual([]);
  await deliver('job_a', 3);
  await receiver.notified();
  expect(completed).toEqual([{ jobId: 'job_a', itemCount: 3, workflowId: 'wf-a' }]);
  // More deliveries (a redelivery, an extra item) notify nobody again.
  await deliver('job_a', 4);
  await receiver.notified();
  expect(completed).toHaveLength(1);
});

test('a watch for a job whose predictions are all here already notifies at once', async () => {
  await deliver('job_b', 1);
  await deliver('job_b', 2);
  expect((await watch({ jobId: 'job_b', itemCount: 2, workflowId: 'wf-b' })).body.predictions).toBe(2);
  await receiver.notified();
  expect(completed.map((done) => done.workflowId)).toEqual(['wf-b']);
});

test.each([
  ['no body fields', {}],
  ['a zero item count', { jobId: 'job_c', itemCount: 0, workflowId: 'wf-c' }],
  ['an unknown field', { jobId: 'job_c', itemCount: 1, workflowId: 'wf-c', secret: 'x' }],
])('a watch with %s is refused with 400 invalid-watch', async (_label, body) => {
  const answer = await watch(body);
  expect(answer.status).toBe(400);
  expect(answer.body.error).toBe('invalid-watch');
});

test('a notification that fails is logged, not thrown: the run still polls', async () => {
  await receiver.close();
  receiver = await startReceiver({
    port: 0,
    secrets: [secret],
    outFile: `${folder.dir}/predictions.ndjson`,
    onJobComplete: () => {
      throw new Error('temporal is down');
    },
  });
  const errors: string[] = [];
  const original = console.error;
  console.error = (message: string) => errors.push(message);
  try {
    await watch({ jobId: 'job_d', itemCount: 1, workflowId: 'wf-d' });
    expect((await deliver('job_d', 1)).status).toBe(200);
    await receiver.notified();
  } finally {
    console.error = original;
  }
  expect(errors.join('\n')).toMatch(/could not notify run wf-d of job job_d: Error: temporal is down/);
});

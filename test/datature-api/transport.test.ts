// Error mapping, retries, timeouts, aborts and secret hygiene, against a real loopback HTTP server.
import { inspect } from 'node:util';
import { Agent, type Dispatcher } from 'undici';
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  DatatureApiError,
  DatatureClient,
  DatatureConnectionError,
  DatatureResponseError,
  DatatureTimeoutError,
  isRetryable,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  UnprocessableEntityError,
} from '../../src/datature-api';
import { parseRetryAfter, retryDelayMs } from '../../src/datature-api/retry-policy';
import { webhookWire } from './fixtures/seed-wire';
import { json, type LoopbackServer, startLoopbackServer } from './helpers/loopback-server';

const SECRET = 'sk-very-secret-0123456789';
const PROJECT = 'proj_0123';
const webhookPath = `/projects/${PROJECT}/batch/webhooks/webhook_1`;

let server: LoopbackServer;
/** performance.now() at which each request of the current script reached the server. */
let arrivals: number[] = [];
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  arrivals = [];
});

const client = (options: Partial<ConstructorParameters<typeof DatatureClient>[0]> = {}) =>
  new DatatureClient({ secretKey: SECRET, projectId: PROJECT, baseUrl: server.url, ...options });

/** Answers each request with the next response of the script; the last one repeats. */
function script(...responses: Array<[number, unknown, Record<string, string>?] | 'reset' | 'hang'>) {
  let i = 0;
  server.handle((_req, res) => {
    arrivals.push(performance.now());
    const next = responses[Math.min(i++, responses.length - 1)];
    if (next === 'reset') res.socket?.destroy();
    else if (next === 'hang') return;
    else json(res, next[0], next[1], next[2]);
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('requests', () => {
  test('Secret-Key and User-Agent headers, proj_ prefix added, JSON body on writes', async () => {
    script([200, webhookWire]);
    await client({ projectId: '0123' }).webhooks.update('webhook_1', { endpoint: 'https://e.test/' });
    const [req] = server.requests;
    expect(req.method).toBe('PATCH');
    expect(req.url).toBe(webhookPath);
    expect(req.headers['secret-key']).toBe(SECRET);
    expect(req.headers['user-agent']).toMatch(/^datature-batch-worker\/\d+\.\d+\.\d+/);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString())).toEqual({ spec: { endpoint: 'https://e.test/' } });
  });

  test('base URL from DATATURE_API_BASE_URL when no option is given, default otherwise', () => {
    const previous = process.env.DATATURE_API_BASE_URL;
    try {
      process.env.DATATURE_API_BASE_URL = 'http://127.0.0.1:1';
      expect(new DatatureClient({ secretKey: 'k', projectId: 'p' }).baseUrl).toBe('http://127.0.0.1:1');
      delete process.env.DATATURE_API_BASE_URL;
      expect(new DatatureClient({ secretKey: 'k', projectId: 'p' }).baseUrl).toBe('https://api.datature.io');
      expect(new DatatureClient({ secretKey: 'k', projectId: 'p', baseUrl: 'http://x.test' }).baseUrl).toBe(
        'http://x.test',
      );
    } finally {
      if (previous === undefined) delete process.env.DATATURE_API_BASE_URL;
      else process.env.DATATURE_API_BASE_URL = previous;
    }
  });

  test('requests go through the given undici dispatcher', async () => {
    script([200, webhookWire]);
    let dispatched = 0;
    class CountingAgent extends Agent {
      dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatched++;
        return super.dispatch(options, handler);
      }
    }
    const dispatcher = new CountingAgent();
    try {
      await client({ dispatcher }).webhooks.get('webhook_1');
    } finally {
      await dispatcher.close();
    }
    expect(dispatched).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  test('a 2xx body of the wrong shape is a DatatureResponseError naming the field', async () => {
    script([200, { ...webhookWire, retries: 'three' }]);
    const err = await failure(client().webhooks.get('webhook_1'));
    expect(err).toBeInstanceOf(DatatureResponseError);
    expect(err.message).toMatch(/retries/);
  });
});

describe('error classes', () => {
  test.each([
    [400, BadRequestError, false],
    [401, AuthenticationError, false],
    [403, PermissionDeniedError, false],
    [404, NotFoundError, false],
    [409, ConflictError, false],
    [422, UnprocessableEntityError, false],
    [429, RateLimitError, true],
    [500, ServerError, true],
    [502, ServerError, true],
    [418, DatatureApiError, false],
  ])('%i -> %p', async (status, ErrorClass, retryable) => {
    script([status, { message: `answer ${status}` }, { 'x-request-id': `req-${status}` }]);
    const err = await failure(client({ maxRetries: 0 }).webhooks.get('webhook_1'));
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err).toBeInstanceOf(DatatureApiError);
    expect(err).toMatchObject({ status, message: `answer ${status}`, requestId: `req-${status}`, retryable });
    expect(isRetryable(err)).toBe(retryable);
  });

  test('a body that is not JSON becomes the message', async () => {
    server.handle((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    const err = await failure(client({ maxRetries: 0 }).webhooks.get('webhook_1'));
    expect(err).toMatchObject({ status: 502, message: '<html>bad gateway</html>', requestId: undefined });
  });
});

describe('retries', () => {
  test('GET: 500 then 503 then 200 -> three requests, success', async () => {
    script(
      [500, { message: 'a' }, { 'retry-after-ms': '10' }],
      [503, { message: 'b' }, { 'retry-after-ms': '10' }],
      [200, webhookWire],
    );
    const webhook = await client().webhooks.get('webhook_1');
    expect(webhook.id).toBe(webhookWire.id);
    expect(server.requests).toHaveLength(3);
  });

  test('gives up after maxRetries (default 2): 3 requests, the last error thrown', async () => {
    script([503, { message: 'down' }, { 'retry-after-ms': '5' }]);
    const err = await failure(client().webhooks.get('webhook_1'));
    expect(err).toBeInstanceOf(ServerError);
    expect(server.requests).toHaveLength(3);
  });

  test('per-call maxRetries overrides the client', async () => {
    script([503, { message: 'down' }, { 'retry-after-ms': '5' }]);
    await failure(client().webhooks.get('webhook_1', { maxRetries: 0 }));
    expect(server.requests).toHaveLength(1);
  });

  test.each([
    ['retry-after (seconds) on a 429', 429, { 'retry-after': '2' }, 2000],
    ['retry-after-ms on a 503', 503, { 'retry-after-ms': '1500' }, 1500],
  ] as const)('%s: the retry waits that long, as seen by the server', async (_name, status, headers, delayMs) => {
    script([status, { message: 'later' }, headers], [200, webhookWire]);
    await client().webhooks.get('webhook_1');
    expect(server.requests).toHaveLength(2);
    // Between the two arrivals (a lower bound only: a loaded machine may be late, never early). The
    // first backoff without the header would be at most 500 ms.
    expect(arrivals[1] - arrivals[0]).toBeGreaterThanOrEqual(delayMs - 5);
  });

  test('a Retry-After replaces the exponential backoff, capped at 60 s; without one the backoff has jitter', () => {
    for (const retryIndex of [0, 3, 9]) {
      expect(retryDelayMs(new RateLimitError(429, 'x', undefined, 1234), retryIndex)).toBe(1234);
      expect(retryDelayMs(new ServerError(503, 'x', undefined, 0), retryIndex)).toBe(0);
      expect(retryDelayMs(new ServerError(503, 'x', undefined, 3_600_000), retryIndex)).toBe(60_000);
    }
    for (const [retryIndex, backoff] of [
      [0, 500],
      [1, 1000],
      [3, 4000],
      [9, 8000],
    ]) {
      const delay = retryDelayMs(new ServerError(503, 'x', undefined, undefined), retryIndex);
      expect(delay).toBeGreaterThan(backoff * 0.75 - 1);
      expect(delay).toBeLessThanOrEqual(backoff);
    }
  });

  test('RateLimitError carries retryAfterMs', async () => {
    script([429, { message: 'slow down' }, { 'retry-after-ms': '1234' }]);
    const err = await failure(client({ maxRetries: 0 }).webhooks.get('webhook_1'));
    expect(err).toMatchObject({ retryAfterMs: 1234 });
  });

  test('parseRetryAfter: ms header first, then seconds, then HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(parseRetryAfter({ 'retry-after': '2' }, now)).toBe(2000);
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }, now)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });

  test('a POST that may have been processed is never retried: 500 and socket reset', async () => {
    script([500, { message: 'oops' }, { 'retry-after-ms': '5' }]);
    await failure(client().webhooks.test('webhook_1'));
    expect(server.requests).toHaveLength(1);

    server.requests.length = 0;
    script('reset');
    const err = await failure(client().webhooks.test('webhook_1'));
    expect(err).toBeInstanceOf(DatatureConnectionError);
    expect(server.requests).toHaveLength(1);
  });

  test('a POST refused with 429 is retried (the server did not process it)', async () => {
    script(
      [429, { message: 'later' }, { 'retry-after-ms': '10' }],
      [200, { status: 'Ok', responseCode: 204, latencyMs: 1, attemptCount: 1 }],
    );
    const result = await client().webhooks.test('webhook_1');
    expect(result.status).toBe('Ok');
    expect(server.requests).toHaveLength(2);
  });

  test('socket reset on a GET: retried, then DatatureConnectionError', async () => {
    script('reset');
    const err = await failure(client({ maxRetries: 1 }).webhooks.get('webhook_1'));
    expect(err).toBeInstanceOf(DatatureConnectionError);
    expect(isRetryable(err)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  test('connection refused: DatatureConnectionError ECONNREFUSED, even a POST is retried', async () => {
    const closed = await startLoopbackServer();
    await closed.close();
    const err = await failure(
      new DatatureClient({ secretKey: SECRET, projectId: PROJECT, baseUrl: closed.url, maxRetries: 1 }).webhooks.create(
        {
          name: 'w',
          endpoint: 'https://e.test/',
          secret: 's',
        },
      ),
    );
    expect(err).toBeInstanceOf(DatatureConnectionError);
    expect((err as DatatureConnectionError).code).toBe('ECONNREFUSED');
  });

  test('a hanging server: DatatureTimeoutError after timeoutMs, retried', async () => {
    // The server never answers: without a working timeout this never resolves (the test times out).
    script('hang');
    const err = await failure(client({ timeoutMs: 200, maxRetries: 1 }).webhooks.get('webhook_1'));
    expect(err).toBeInstanceOf(DatatureTimeoutError);
    expect(err.message).toBe('request timed out after 200 ms');
    expect(isRetryable(err)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });
});

describe('abort', () => {
  test('mid-request: rejects with the signal reason at once, no retry', async () => {
    const controller = new AbortController();
    // Aborted once the request is at the server (which never answers).
    const arrived = new Promise<void>((resolve) => server.handle(() => resolve()));
    void arrived.then(() => controller.abort(new Error('stop now')));
    const started = performance.now();
    const err = await failure(
      client({ timeoutMs: 20_000, maxRetries: 0 }).webhooks.get('webhook_1', { signal: controller.signal }),
    );
    expect(err.message).toBe('stop now');
    // Not by the client's 20 s timeout: a generous bound, far from both the abort and the timeout.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(1);
  });

  test('mid-backoff: a 60 s Retry-After wait ends when the signal aborts', async () => {
    const controller = new AbortController();
    const answered = new Promise<void>((resolve) =>
      server.handle((_req, res) => {
        json(res, 429, { message: 'later' }, { 'retry-after': '60' });
        resolve();
      }),
    );
    // Aborted once the 429 was sent, i.e. during the 60 s wait before the retry.
    void answered.then(() => setTimeout(() => controller.abort(new Error('cancelled')), 50));
    const started = performance.now();
    const err = await failure(client().webhooks.get('webhook_1', { signal: controller.signal }));
    expect(err.message).toBe('cancelled');
    // Not after sitting out the wait: a generous bound, far from both the abort and the 60 s.
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(server.requests).toHaveLength(1);
  });
});

describe('the secret key never leaks', () => {
  const visible = (value: unknown) => [
    String(value),
    JSON.stringify(value),
    inspect(value, { depth: 10, showHidden: true }),
  ];

  test('not in the client, even inspected deeply with hidden fields', () => {
    const datatureApi = client();
    for (const value of [datatureApi, datatureApi.webhooks, datatureApi.datasets, datatureApi.jobs]) {
      for (const text of visible(value)) expect(text).not.toContain(SECRET);
    }
    expect(JSON.stringify(Object.entries(client()))).not.toContain(SECRET);
  });

  test('not in an API error, even when the server echoes it back', async () => {
    script([401, { message: `bad key ${SECRET}` }]);
    const err = await failure(client({ maxRetries: 0 }).webhooks.get('webhook_1'));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toBe('bad key [REDACTED]');
    for (const text of [...visible(err), err.stack ?? '']) expect(text).not.toContain(SECRET);
  });

  test('not in a connection or timeout error', async () => {
    script('reset');
    const reset = await failure(client({ maxRetries: 0 }).webhooks.get('webhook_1'));
    script('hang');
    const timeout = await failure(client({ maxRetries: 0, timeoutMs: 100 }).webhooks.get('webhook_1'));
    for (const err of [reset, timeout]) {
      for (const text of visible(err)) expect(text).not.toContain(SECRET);
    }
  });
});

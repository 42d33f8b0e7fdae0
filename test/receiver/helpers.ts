import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { StoredPrediction } from '../../src/receiver';
import type { ItemPredictedDelivery } from '../../src/webhook-delivery/payload';
import { signDelivery } from '../../src/webhook-delivery/signature';

export const newSecret = (): string => randomBytes(32).toString('base64');

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function itemDelivery(overrides: Partial<ItemPredictedDelivery> = {}): ItemPredictedDelivery {
  return {
    type: 'batch.item.predicted',
    deliveryId: `dlv_${randomUUID()}`,
    projectId: 'proj_00000000000000000000000000000001',
    jobId: 'job_test',
    datasetId: 'dataset_test',
    item: { kind: 'Image', url: 'http://127.0.0.1/items/1.jpg' },
    predictions: [{ label: 'cat', confidence: 0.9, bbox: [0.1, 0.1, 0.5, 0.5] }],
    emulated: true,
    createTime: Date.now(),
    ...overrides,
  };
}

export interface PostOptions {
  secret?: string;
  deliveryId?: string;
  timestampSeconds?: number;
  headers?: Record<string, string>;
  method?: 'POST' | 'PUT' | 'GET';
  path?: string;
}

/** POSTs a body signed like the emulator does; options break one thing at a time. */
export async function postSigned(baseUrl: string, body: unknown, options: PostOptions = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const deliveryId = options.deliveryId ?? (body as { deliveryId?: string }).deliveryId ?? `dlv_${randomUUID()}`;
  const signed = options.secret
    ? signDelivery(options.secret, deliveryId, options.timestampSeconds ?? Math.floor(Date.now() / 1000), raw)
    : {};
  const response = await request(`${baseUrl}${options.path ?? '/'}`, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...signed, ...options.headers },
    body: raw,
  });
  const text = await response.body.text();
  return { status: response.statusCode, text };
}

export function readStored(path: string): StoredPrediction[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as StoredPrediction);
}

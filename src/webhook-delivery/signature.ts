// How a delivery to a webhook endpoint is signed. The hosted API does not document its scheme, so
// the emulator and the receiver share this one (Standard-Webhooks style; see docs/webhook-delivery.md).
// Swapping the scheme means changing this file only.
import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The HMAC key: the webhook secret is base64 text of 32 random bytes; the decoded bytes are the key. */
function keyOf(secret: string): Buffer {
  const key = Buffer.from(secret, 'base64');
  if (key.length === 0) throw new Error('webhook secret is not base64 text');
  return key;
}

function hmac(secret: string, deliveryId: string, timestampSeconds: number, body: Buffer | string): string {
  return createHmac('sha256', keyOf(secret)).update(`${deliveryId}.${timestampSeconds}.`).update(body).digest('base64');
}

export function signDelivery(
  secret: string,
  deliveryId: string,
  timestampSeconds: number,
  body: Buffer | string,
): SignedHeaders {
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${hmac(secret, deliveryId, timestampSeconds, body)}`,
  };
}

export type VerifyResult =
  | { ok: true; deliveryId: string; timestampSeconds: number }
  | { ok: false; reason: 'missing-headers' | 'bad-timestamp' | 'stale-timestamp' | 'bad-signature' };

/**
 * Accepts when any `v1,` signature in the header matches any of `secrets` (several during a secret
 * rotation) and the timestamp is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyDelivery(
  secrets: readonly string[],
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  nowSeconds: number,
  toleranceSeconds = 300,
): VerifyResult {
  const single = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const deliveryId = single(SIGNATURE_HEADERS.id);
  const timestamp = single(SIGNATURE_HEADERS.timestamp);
  const signatureHeader = single(SIGNATURE_HEADERS.signature);
  if (!deliveryId || !timestamp || !signatureHeader) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad-timestamp' };
  const timestampSeconds = Number(timestamp);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return { ok: false, reason: 'stale-timestamp' };
  const offered = signatureHeader
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'));
  for (const secret of secrets) {
    const expected = Buffer.from(hmac(secret, deliveryId, timestampSeconds, body), 'base64');
    if (offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { ok: true, deliveryId, timestampSeconds };
    }
  }
  return { ok: false, reason: 'bad-signature' };
}

// POSTs signed deliveries to webhook endpoints, retrying per the webhook's maxRetries / maxBackoffMs.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import { signDelivery } from '../webhook-delivery';

interface WebhookTarget {
  endpoint: string;
  secret: string;
  maxRetries: number;
  maxBackoffMs: number;
}

interface SendSettings {
  dispatcher: Dispatcher;
  baseBackoffMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

interface AttemptResult {
  ok: boolean;
  /** 0 when no HTTP response came back. */
  responseCode: number;
  latencyMs: number;
  body: string;
  reason: string;
}

const MAX_RESPONSE_TEXT = 4096;

export async function attemptDelivery(
  target: WebhookTarget,
  deliveryId: string,
  body: Buffer,
  settings: SendSettings,
): Promise<AttemptResult> {
  const started = performance.now();
  // Signature timestamps are real wall-clock time, not the emulator's shifted clock, so receivers'
  // freshness checks still pass while a test moves the emulator clock days ahead.
  const headers = signDelivery(target.secret, deliveryId, Math.floor(Date.now() / 1000), body);
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const signals = [timeout, ...(settings.signal ? [settings.signal] : [])];
  try {
    const response = await request(target.endpoint, {
      method: 'POST',
      dispatcher: settings.dispatcher,
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.any(signals),
    });
    const text = (await response.body.text()).slice(0, MAX_RESPONSE_TEXT);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return {
      ok,
      responseCode: response.statusCode,
      latencyMs: Math.round(performance.now() - started),
      body: text,
      reason: ok ? '' : `HTTP ${response.statusCode}`,
    };
  } catch (error) {
    if (settings.signal?.aborted) throw error;
    return {
      ok: false,
      responseCode: 0,
      latencyMs: Math.round(performance.now() - started),
      body: '',
      reason: timeout.aborted
        ? `timed out after ${settings.timeoutMs} ms`
        : `connection failed: ${(error as Error).message}`,
    };
  }
}

interface DeliveryOutcome {
  ok: boolean;
  attempts: AttemptResult[];
}

/** Retries with exponential backoff (base, 2x base, ...) capped at maxBackoffMs; every attempt keeps deliveryId. */
export async function deliverWithRetries(
  target: WebhookTarget,
  deliveryId: string,
  body: Buffer,
  settings: SendSettings,
): Promise<DeliveryOutcome> {
  const attempts: AttemptResult[] = [];
  for (let attempt = 0; attempt <= target.maxRetries; attempt++) {
    if (attempt > 0) {
      const delay = Math.min(target.maxBackoffMs, settings.baseBackoffMs * 2 ** (attempt - 1));
      await sleep(delay, undefined, { signal: settings.signal });
    }
    const result = await attemptDelivery(target, deliveryId, body, settings);
    attempts.push(result);
    if (result.ok) return { ok: true, attempts };
  }
  return { ok: false, attempts };
}

import { randomBytes } from 'node:crypto';

/** 32 random bytes, standard base64 (44 chars): what the official SDK's `generate_webhook_secret` returns. */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString('base64');
}

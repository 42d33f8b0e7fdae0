import { z } from 'zod';
import type { WebhookTestDelivery } from '../../webhook-delivery';
import { type ApiRequest, type ApiRoute, projectPath } from '../app';
import { notFound, parseBody } from '../http';
import { newDeliveryId, newWebhookId } from '../ids';
import { listPage } from '../pagination';
import type { WebhookRow } from '../store';
import { attemptDelivery } from '../webhook-sender';
import { webhookJson } from '../wire';

export const Name = z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters');

const Endpoint = z
  .string()
  .url('must be a URL')
  .refine((value) => /^https?:\/\//.test(value), 'must be an http or https URL');

/** Base64 text of at least 16 bytes; deliveries are signed with the decoded bytes. */
const Secret = z.object({
  contents: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 text')
    .refine((value) => Buffer.from(value, 'base64').length >= 16, 'must decode to at least 16 bytes'),
});

const Retries = z.object({
  maxRetries: z.number().int('must be an integer').min(0).max(5),
  maxBackoffMs: z.number().int('must be an integer').min(0).max(60_000),
});

const CreateWebhook = z.object({
  name: Name,
  spec: z.object({ endpoint: Endpoint, secret: Secret, retries: Retries.optional() }),
});

const UpdateWebhook = z.object({
  spec: z.object({ endpoint: Endpoint.optional(), secret: Secret.optional(), retries: Retries.optional() }),
});

function findWebhook(request: ApiRequest, id: string): WebhookRow {
  const row = request.app.store.get<WebhookRow>('webhooks', request.project.id, id);
  if (!row) throw notFound(`webhook ${id} not found`);
  return row;
}

/** Stores `changes` to a webhook with a new update_date and answers its JSON (never the secret). */
function saveWebhook(request: ApiRequest, row: WebhookRow, changes: Partial<WebhookRow>) {
  const updated: WebhookRow = { ...row, ...changes, update_date: request.app.clock.now() };
  request.app.store.updateWebhook(updated);
  return webhookJson(updated);
}

export const webhookRoutes: ApiRoute[] = [
  {
    method: 'POST',
    pattern: projectPath('batch/webhooks'),
    async handle(request) {
      const body = parseBody(CreateWebhook, await request.body());
      const now = request.app.clock.now();
      const row: WebhookRow = {
        id: newWebhookId(),
        project_id: request.project.id,
        name: body.name,
        endpoint: body.spec.endpoint,
        secret: body.spec.secret.contents,
        max_retries: body.spec.retries?.maxRetries ?? 3,
        max_backoff_ms: body.spec.retries?.maxBackoffMs ?? 15_000,
        create_date: now,
        update_date: now,
      };
      request.app.store.insertWebhook(row);
      return webhookJson(row);
    },
  },
  {
    method: 'GET',
    pattern: projectPath('batch/webhooks'),
    handle: (request) =>
      listPage(request.app.store, 'webhooks', request.project.id, request.url.searchParams, webhookJson),
  },
  {
    method: 'GET',
    pattern: projectPath('batch/webhooks/{id}'),
    handle: (request, [id]) => webhookJson(findWebhook(request, id)),
  },
  {
    method: 'PATCH',
    pattern: projectPath('batch/webhooks/{id}'),
    async handle(request, [id]) {
      const row = findWebhook(request, id);
      const { spec } = parseBody(UpdateWebhook, await request.body());
      return saveWebhook(request, row, {
        endpoint: spec.endpoint ?? row.endpoint,
        secret: spec.secret?.contents ?? row.secret,
        max_retries: spec.retries?.maxRetries ?? row.max_retries,
        max_backoff_ms: spec.retries?.maxBackoffMs ?? row.max_backoff_ms,
      });
    },
  },
  {
    method: 'PUT',
    pattern: projectPath('batch/webhooks/{id}/secret'),
    async handle(request, [id]) {
      const row = findWebhook(request, id);
      const { contents } = parseBody(Secret, await request.body());
      return saveWebhook(request, row, { secret: contents });
    },
  },
  {
    method: 'POST',
    pattern: projectPath('batch/webhooks/{id}:test'),
    async handle(request, [id]) {
      const row = findWebhook(request, id);
      const { app } = request;
      const deliveryId = newDeliveryId();
      const payload: WebhookTestDelivery = {
        type: 'webhook.test',
        deliveryId,
        projectId: row.project_id,
        webhookId: row.id,
        createTime: app.clock.now(),
      };
      // One attempt: the caller wants to know whether the endpoint answers now, not after backoff.
      const result = await attemptDelivery(
        { endpoint: row.endpoint, secret: row.secret, maxRetries: 0, maxBackoffMs: 0 },
        deliveryId,
        Buffer.from(JSON.stringify(payload)),
        { dispatcher: app.engine.httpDispatcher, baseBackoffMs: 0, timeoutMs: app.options.deliveryTimeoutMs },
      );
      return {
        status: result.ok ? 'Ok' : 'Failed',
        responseCode: result.responseCode,
        latencyMs: result.latencyMs,
        attemptCount: 1,
        body: result.body,
        ...(result.ok ? {} : { reason: result.reason }),
      };
    },
  },
  {
    method: 'DELETE',
    pattern: projectPath('batch/webhooks/{id}'),
    handle(request, [id]) {
      findWebhook(request, id);
      request.app.store.deleteRow('webhooks', id);
      return { id, deleted: true };
    },
  },
];

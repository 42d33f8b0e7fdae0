import { DatatureValidationError } from './errors';
import {
  DeleteResponseSchema,
  type Page,
  pageSchema,
  type Webhook,
  WebhookSchema,
  WebhookTestResponseSchema,
} from './models';
import { type PageParams, paginate } from './pagination';
import { checkHttpUrl, checkId, checkName, checkWebhookRetries } from './request-validation';
import { ApiResource, seg } from './resource';
import type { RequestOptions } from './transport';

export interface WebhookRetriesInput {
  maxRetries?: number;
  /** Milliseconds, 0-60000 (wire `maxBackoffMs`). */
  maxRetryDelay?: number;
}

export interface WebhookCreateParams {
  name: string;
  endpoint: string;
  /** Base64 shared secret signing deliveries; see generateWebhookSecret(). Never returned by the API. */
  secret: string;
  retries?: WebhookRetriesInput;
}

export interface WebhookUpdateParams {
  endpoint?: string;
  retries?: WebhookRetriesInput;
}

/** The official SDK's defaults, sent on create when not given. */
export const DEFAULT_WEBHOOK_RETRIES = { maxRetries: 3, maxRetryDelay: 15_000 } as const;

const WebhookPageSchema = pageSchema(WebhookSchema);

export class Webhooks extends ApiResource {
  create(params: WebhookCreateParams, options?: RequestOptions): Promise<Webhook> {
    checkName('name', params.name);
    checkHttpUrl('endpoint', params.endpoint);
    if (typeof params.secret !== 'string' || params.secret === '') {
      throw new DatatureValidationError('secret', 'must be a non-empty string');
    }
    const retries = { ...DEFAULT_WEBHOOK_RETRIES, ...params.retries };
    checkWebhookRetries('retries', retries);
    const json = {
      name: params.name,
      spec: { endpoint: params.endpoint, secret: { contents: params.secret }, retries: wireRetries(retries) },
    };
    return this.transport.call(
      { method: 'POST', path: this.path('webhooks'), json, schema: WebhookSchema, idempotent: false },
      options,
    );
  }

  list(params: { limit?: number } = {}, options?: RequestOptions): AsyncGenerator<Webhook> {
    return paginate((page) => this.listPage({ page, limit: params.limit }, options));
  }

  listPage(params: PageParams = {}, options?: RequestOptions): Promise<Page<Webhook>> {
    return this.transport.call(
      { method: 'GET', path: this.path('webhooks'), query: { ...params }, schema: WebhookPageSchema, idempotent: true },
      options,
    );
  }

  get(webhookId: string, options?: RequestOptions): Promise<Webhook> {
    checkId('webhookId', webhookId);
    return this.transport.call(
      { method: 'GET', path: this.path('webhooks', seg(webhookId)), schema: WebhookSchema, idempotent: true },
      options,
    );
  }

  /**
   * Only the given fields change. The API takes `retries` whole, so a partial one is completed from the
   * webhook's current values (one extra GET).
   */
  async update(webhookId: string, params: WebhookUpdateParams, options?: RequestOptions): Promise<Webhook> {
    checkId('webhookId', webhookId);
    if (params.endpoint !== undefined) checkHttpUrl('endpoint', params.endpoint);
    if (params.retries !== undefined) checkWebhookRetries('retries', params.retries);
    let retries = params.retries;
    if (retries && (retries.maxRetries === undefined || retries.maxRetryDelay === undefined)) {
      retries = { ...(await this.get(webhookId, options)).retries, ...retries };
    }
    const spec = {
      ...(params.endpoint !== undefined ? { endpoint: params.endpoint } : {}),
      ...(retries !== undefined ? { retries: wireRetries(retries) } : {}),
    };
    return this.transport.call(
      {
        method: 'PATCH',
        path: this.path('webhooks', seg(webhookId)),
        json: { spec },
        schema: WebhookSchema,
        idempotent: true,
      },
      options,
    );
  }

  updateSecret(webhookId: string, secret: string, options?: RequestOptions): Promise<Webhook> {
    checkId('webhookId', webhookId);
    if (typeof secret !== 'string' || secret === '')
      throw new DatatureValidationError('secret', 'must be a non-empty string');
    return this.transport.call(
      {
        method: 'PUT',
        path: this.path('webhooks', seg(webhookId), 'secret'),
        json: { contents: secret },
        schema: WebhookSchema,
        idempotent: true,
      },
      options,
    );
  }

  /** Sends a sample payload to the endpoint; a POST that delivers something, so never retried after sending. */
  test(webhookId: string, options?: RequestOptions) {
    checkId('webhookId', webhookId);
    return this.transport.call(
      {
        method: 'POST',
        path: `${this.path('webhooks', seg(webhookId))}:test`,
        schema: WebhookTestResponseSchema,
        idempotent: false,
      },
      options,
    );
  }

  delete(webhookId: string, options?: RequestOptions) {
    checkId('webhookId', webhookId);
    return this.transport.call(
      { method: 'DELETE', path: this.path('webhooks', seg(webhookId)), schema: DeleteResponseSchema, idempotent: true },
      options,
    );
  }
}

function wireRetries(retries: WebhookRetriesInput) {
  return { maxRetries: retries.maxRetries, maxBackoffMs: retries.maxRetryDelay };
}

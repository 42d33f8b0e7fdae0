// The JSON body the emulator POSTs to a webhook for each predicted item, and for `:test`.
// Not documented by Datature: this is the emulator's stated assumption (docs/webhook-delivery.md).
import { z } from 'zod';

export const Prediction = z.object({
  label: z.string(),
  confidence: z.number().min(0).max(1),
  /** [xmin, ymin, xmax, ymax], normalised to 0..1. */
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
});
export type Prediction = z.infer<typeof Prediction>;

export const ItemPredictedDelivery = z.object({
  type: z.literal('batch.item.predicted'),
  deliveryId: z.string(),
  projectId: z.string(),
  jobId: z.string(),
  datasetId: z.string(),
  item: z.object({ kind: z.string(), url: z.string() }),
  predictions: z.array(Prediction),
  /** Marks predictions made by the emulator's deterministic stand-in model, not a real one. */
  emulated: z.boolean(),
  createTime: z.number().int(),
});
export type ItemPredictedDelivery = z.infer<typeof ItemPredictedDelivery>;

export const WebhookTestDelivery = z.object({
  type: z.literal('webhook.test'),
  deliveryId: z.string(),
  projectId: z.string(),
  webhookId: z.string(),
  createTime: z.number().int(),
});
export type WebhookTestDelivery = z.infer<typeof WebhookTestDelivery>;

export const WebhookDelivery = z.discriminatedUnion('type', [ItemPredictedDelivery, WebhookTestDelivery]);
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const newWebhookId = () => `webhook_${randomUUID()}`;
export const newDatasetId = () => `dataset_${randomUUID()}`;
export const newJobId = () => `batchjob_${randomUUID()}`;
export const jobLogsId = (jobId: string) => `batchjoblog_${jobId.slice('batchjob_'.length)}`;
/** Log entry ids are 24 hex characters, like the hosted API's. */
export const newLogEntryId = () => randomBytes(12).toString('hex');
export const newDeliveryId = () => `dlv_${randomUUID()}`;
/**
 * The same for every delivery of one item of one job to one webhook, also when the item is redone after
 * a crash, so receivers can de-duplicate on `webhook-id`.
 */
export const itemDeliveryId = (jobId: string, itemIndex: number, webhookId: string) =>
  `dlv_${createHash('sha256').update(`${jobId}\n${itemIndex}\n${webhookId}`).digest('hex').slice(0, 32)}`;

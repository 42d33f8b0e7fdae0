import { randomBytes, randomUUID } from 'node:crypto';

export const newWebhookId = () => `webhook_${randomUUID()}`;
export const newDatasetId = () => `dataset_${randomUUID()}`;
export const newJobId = () => `batchjob_${randomUUID()}`;
export const jobLogsId = (jobId: string) => `batchjoblog_${jobId.slice('batchjob_'.length)}`;
/** Log entry ids are 24 hex characters, like the hosted API's. */
export const newLogEntryId = () => randomBytes(12).toString('hex');
export const newDeliveryId = () => `dlv_${randomUUID()}`;

// Zod schemas of every object in the seed ("Result Types"), parsing the API's wire JSON into TS objects
// named like the seed's attributes in camelCase. Unknown fields are kept (loose objects) and status
// strings are plain strings, because the hosted API's value sets are only partly known.
// The only renames: job item counters (wire PascalCase) and `retries.maxBackoffMs` -> `maxRetryDelay`.
import { z } from 'zod';
import {
  JOB_ITEM_COUNTER_WIRE_NAMES,
  JOB_ITEM_COUNTERS,
  type JobItemCounterName,
  type JobItemCounterWireName,
} from './status-rules';

const millis = z.number();
/** The docs table types `expiryTime` as str while the SDK struct says int: accept both, expose a number. */
const millisOrNumericString = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

export const WebhookRetriesSchema = z
  .looseObject({ maxRetries: z.number().int(), maxBackoffMs: z.number().int() })
  .transform(({ maxBackoffMs, ...rest }) => ({ ...rest, maxRetryDelay: maxBackoffMs }));
export type WebhookRetries = z.output<typeof WebhookRetriesSchema>;

export const WebhookSchema = z.looseObject({
  id: z.string(),
  object: z.string(),
  projectId: z.string(),
  name: z.string(),
  endpoint: z.string(),
  retries: WebhookRetriesSchema,
  createDate: millis,
  updateDate: millis,
});
/** The seed's `WebhookModel`. */
export type Webhook = z.output<typeof WebhookSchema>;

export const WebhookTestResponseSchema = z.looseObject({
  status: z.string(),
  responseCode: z.number().int(),
  latencyMs: z.number(),
  attemptCount: z.number().int(),
  body: z.string().nullish(),
  reason: z.string().nullish(),
});
export type WebhookTestResponse = z.output<typeof WebhookTestResponseSchema>;

/** The emulator (and the SDK's struct) send a name -> value map; the docs example shows only header names. */
export const UploadHeadersSchema = z.union([z.record(z.string(), z.string()), z.array(z.string())]);
export type UploadHeaders = z.output<typeof UploadHeadersSchema>;

export const DatasetUploadUrlSchema = z.looseObject({
  method: z.string(),
  url: z.string(),
  headers: UploadHeadersSchema,
  expiresAtTime: millis,
});
export type DatasetUploadUrl = z.output<typeof DatasetUploadUrlSchema>;

export const DatasetSourceSchema = z.looseObject({ kind: z.string(), uploadUrl: DatasetUploadUrlSchema });
export type DatasetSource = z.output<typeof DatasetSourceSchema>;

export const DatasetStatusSchema = z.looseObject({
  overview: z.string(),
  message: z.string(),
  updateTime: millis,
  source: DatasetSourceSchema,
  itemCount: z.number().int(),
});
export type DatasetStatus = z.output<typeof DatasetStatusSchema>;

export const DatasetSchema = z.looseObject({
  id: z.string(),
  object: z.string(),
  name: z.string(),
  projectId: z.string(),
  expiryTime: millisOrNumericString,
  status: DatasetStatusSchema,
  createDate: millis,
  updateDate: millis,
});
export type Dataset = z.output<typeof DatasetSchema>;

const counter = z.number().int().default(0);

const counterShape = Object.fromEntries(JOB_ITEM_COUNTER_WIRE_NAMES.map((name) => [name, counter])) as Record<
  JobItemCounterWireName,
  typeof counter
>;

export const JobItemStatusSchema = z.looseObject(counterShape).transform((wire) => {
  const known = new Set<string>(JOB_ITEM_COUNTER_WIRE_NAMES);
  const items: Record<string, unknown> = Object.fromEntries(Object.entries(wire).filter(([k]) => !known.has(k)));
  for (const [name, wireName] of Object.entries(JOB_ITEM_COUNTERS)) items[name] = wire[wireName];
  return items as Record<string, unknown> & Record<JobItemCounterName, number>;
});
export type JobItemStatus = z.output<typeof JobItemStatusSchema>;

export const JobStatusSchema = z.looseObject({
  overview: z.string(),
  message: z.string(),
  updateDate: millis,
  items: JobItemStatusSchema,
  reason: z.string().nullish(),
  cancelledAt: millis.nullish(),
});
export type JobStatus = z.output<typeof JobStatusSchema>;

/** The seed's `Webhook` result destination (named so to avoid clashing with the webhook resource). */
export const WebhookDestinationSchema = z.looseObject({ kind: z.string(), webhookId: z.string().nullish() });
export type WebhookDestination = z.output<typeof WebhookDestinationSchema>;

export const ResultDeliverySchema = z.looseObject({ destinations: z.array(WebhookDestinationSchema) });
export type ResultDelivery = z.output<typeof ResultDeliverySchema>;

export const DeploymentHistoryVersionSchema = z.looseObject({
  versionTag: z.string().nullish(),
  artifactId: z.string().nullish(),
  updateDate: millis.nullish(),
});
export const DeploymentResourcesSchema = z.looseObject({
  cpu: z.number().nullish(),
  ram: z.number().nullish(),
  GPU_T4: z.number().nullish(),
  GPU_L4: z.number().nullish(),
  GPU_A100_40GB: z.number().nullish(),
  GPU_A100_80GB: z.number().nullish(),
  GPU_H100: z.number().nullish(),
});
export const DeploymentScalingSchema = z.looseObject({
  replicas: z.number().int().nullish(),
  mode: z.string().nullish(),
});
export const DeploymentStatusSchema = z.looseObject({
  overview: z.string().nullish(),
  message: z.string().nullish(),
  updateDate: millis.nullish(),
});
/** Every field optional, as in the SDK's `Deployment` struct: an ephemeral template may be partial. */
export const DeploymentSchema = z.looseObject({
  id: z.string().nullish(),
  name: z.string().nullish(),
  projectId: z.string().nullish(),
  artifactId: z.string().nullish(),
  versionTag: z.string().nullish(),
  region: z.string().nullish(),
  instanceId: z.string().nullish(),
  historyVersions: z.array(DeploymentHistoryVersionSchema).nullish(),
  resources: DeploymentResourcesSchema.nullish(),
  scaling: DeploymentScalingSchema.nullish(),
  status: DeploymentStatusSchema.nullish(),
  options: z.looseObject({}).nullish(),
  createDate: millis.nullish(),
  updateDate: millis.nullish(),
  url: z.string().nullish(),
});
export type Deployment = z.output<typeof DeploymentSchema>;
export type DeploymentHistoryVersion = z.output<typeof DeploymentHistoryVersionSchema>;
export type DeploymentResources = z.output<typeof DeploymentResourcesSchema>;
export type DeploymentScaling = z.output<typeof DeploymentScalingSchema>;
export type DeploymentStatus = z.output<typeof DeploymentStatusSchema>;

export const ExistingDeploymentSchema = z.looseObject({
  kind: z.literal('ExistingDeployment'),
  deploymentId: z.string(),
});
export type ExistingDeployment = z.output<typeof ExistingDeploymentSchema>;

export const NewEphemeralDeploymentSchema = z.looseObject({
  kind: z.literal('NewEphemeralDeployment'),
  template: DeploymentSchema,
});
export type NewEphemeralDeployment = z.output<typeof NewEphemeralDeploymentSchema>;

/** A deployment kind this client does not know yet is kept as-is rather than rejected. */
export const JobDeploymentSchema = z.union([
  ExistingDeploymentSchema,
  NewEphemeralDeploymentSchema,
  z.looseObject({ kind: z.string() }),
]);
export type JobDeployment = z.output<typeof JobDeploymentSchema>;

export const JobSpecSchema = z.looseObject({
  startAtTime: millis.nullish(),
  stopAtTime: millis.nullish(),
  datasetId: z.string().nullish(),
  resultDelivery: ResultDeliverySchema,
  deployment: JobDeploymentSchema,
});
export type JobSpec = z.output<typeof JobSpecSchema>;

export const JobSchema = z.looseObject({
  id: z.string(),
  object: z.string(),
  name: z.string(),
  projectId: z.string(),
  spec: JobSpecSchema,
  status: JobStatusSchema,
  createDate: millis,
  updateDate: millis,
});
export type Job = z.output<typeof JobSchema>;

export const JobLogEntrySchema = z.looseObject({
  kind: z.string(),
  createTime: millis,
  id: z.string(),
  level: z.string(),
  item: z.string(),
  status: z.string(),
  timeMs: z.number(),
  reason: z.string().nullish(),
});
export type JobLogEntry = z.output<typeof JobLogEntrySchema>;

export const JobLogsSchema = z.looseObject({
  id: z.string(),
  object: z.string(),
  projectId: z.string(),
  entries: z.array(JobLogEntrySchema),
});
export type JobLogs = z.output<typeof JobLogsSchema>;

export const DeleteResponseSchema = z.looseObject({ deleted: z.boolean(), id: z.string().nullish() });
export type DeleteResponse = z.output<typeof DeleteResponseSchema>;

/** The pagination envelope; `nextPage`/`prevPage` are opaque cursors fed back as `?page=`. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    data: z
      .array(item)
      .nullish()
      .transform((data) => data ?? []),
    nextPage: z
      .string()
      .nullish()
      .transform((cursor) => cursor || null),
    prevPage: z
      .string()
      .nullish()
      .transform((cursor) => cursor || null),
  });
}
export interface Page<T> {
  data: T[];
  nextPage: string | null;
  prevPage: string | null;
}

/** One NDJSON line of a dataset: only images are supported by the API. */
export interface DatasetItem {
  kind: 'Image';
  url: string;
}

// Serializers back to wire JSON, for the round-trip tests (test/datature-api) that pin the renames above. Nothing
// else uses them: request bodies are built by the resources, the emulator writes its own wire JSON (wire.ts).

function toWireWebhookRetries({ maxRetryDelay, ...rest }: WebhookRetries) {
  return { ...rest, maxBackoffMs: maxRetryDelay };
}

export function toWireWebhook(webhook: Webhook) {
  return { ...webhook, retries: toWireWebhookRetries(webhook.retries) };
}

function toWireJobItemStatus(items: JobItemStatus) {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(items)) {
    wire[key in JOB_ITEM_COUNTERS ? JOB_ITEM_COUNTERS[key as JobItemCounterName] : key] = value;
  }
  return wire;
}

export function toWireJob(job: Job) {
  return { ...job, status: { ...job.status, items: toWireJobItemStatus(job.status.items) } };
}

/** Datasets have no renamed field: the wire form is the object itself. */
export function toWireDataset(dataset: Dataset) {
  return { ...dataset };
}

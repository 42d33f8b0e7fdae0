// The zod schema of `batchPrediction`'s input: callers validate before starting a run, and the committed
// JSON Schema (schemas/batch-prediction-input.schema.json) is generated from it for non-TS callers.
import { z } from 'zod';
import { FAILED_ITEM_STATUSES } from '../datature-api/status-rules';
import { type BatchPredictionInput, epochMsOf, isAdoptedJob, isoTime, JOB_LOG_LEVELS } from '../workflows/definitions';
import { MAX_RETRY_ROUNDS } from '../workflows/failed-items';

/** Inline items travel in the workflow history: keep them small, use a file or URL for real batches. */
export const MAX_INLINE_ITEMS = 1000;
/** Each running shard adds events to the parent's history while it runs; more would crowd out continue-as-new. */
export const MAX_PARALLEL_SHARDS = 100;

/**
 * A time: ISO-8601 with a zone (what the Web UI and the progress show), or epoch milliseconds for older
 * callers. Either way the parsed input holds ISO-8601: times are normalised once, here.
 */
const time = z
  .union([
    z.iso.datetime({ offset: true, local: false }).describe('ISO-8601 with a zone, e.g. 2026-12-01T02:00:00Z'),
    z.number().int().nonnegative().describe('Epoch milliseconds (older callers)'),
  ])
  .transform((value) => isoTime(value));
const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * Set by a sharded run on its children: the items (from 0, end exclusive) one shard reads. Their bytes in the
 * source come in the child's memo (SHARD_BYTES_MEMO), never from a caller.
 */
const itemRange = z
  .strictObject({ start: z.number().int().nonnegative(), end: z.number().int().positive() })
  .refine((range) => range.start < range.end, { message: 'start must be below end' })
  .optional();

const DatasetSourceSchema = z.union(
  [
    z.strictObject({ ndjsonPath: z.string().min(1).describe('NDJSON file readable by the worker'), itemRange }),
    z.strictObject({ ndjsonUrl: httpUrl.describe('NDJSON file the worker downloads'), itemRange }),
    z.strictObject({
      items: z
        .array(z.strictObject({ kind: z.literal('Image'), url: httpUrl }))
        .max(MAX_INLINE_ITEMS)
        .describe(`At most ${MAX_INLINE_ITEMS} inline items`),
      itemRange,
    }),
    z.strictObject({ datasetId: z.string().min(1).describe('An existing, Uploaded dataset') }),
  ],
  { error: 'give exactly one of {ndjsonPath}, {ndjsonUrl}, {items} or {datasetId}' },
);

const JobSchema = z
  .strictObject({
    name: z.string().min(1).max(100).optional(),
    deploymentId: z.string().min(1).optional(),
    deploymentIds: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('With sharding: deployments the shards are spread over, round-robin'),
    artifactId: z.string().min(1).optional(),
    deploymentTemplate: z.record(z.string(), z.unknown()).optional(),
    webhookIds: z.array(z.string().min(1)).min(1, 'the API needs at least one webhook'),
    startAtTime: time.optional(),
    stopAtTime: time.optional(),
  })
  .refine(
    (job) => [job.deploymentId, job.deploymentIds, job.artifactId].filter((given) => given !== undefined).length === 1,
    { message: 'give exactly one of deploymentId, deploymentIds or artifactId' },
  )
  .refine((job) => job.deploymentTemplate === undefined || job.artifactId !== undefined, {
    message: 'deploymentTemplate goes with artifactId',
  })
  .refine((job) => !job.startAtTime || !job.stopAtTime || epochMsOf(job.startAtTime) < epochMsOf(job.stopAtTime), {
    message: 'startAtTime must be before stopAtTime',
  });

const PollingSchema = z
  .strictObject({
    minIntervalMs: z.number().int().min(1000).optional(),
    maxIntervalMs: z.number().int().min(1000).optional(),
    firstLookSpreadMs: z.number().int().min(0).max(3_600_000).optional(),
    maxHistoryEvents: z.number().int().min(20).optional(),
  })
  .refine((p) => p.minIntervalMs === undefined || p.maxIntervalMs === undefined || p.minIntervalMs <= p.maxIntervalMs, {
    message: 'minIntervalMs must not exceed maxIntervalMs',
  });

const ShardingSchema = z
  .strictObject({
    maxItemsPerShard: z.number().int().min(1),
    maxParallelShards: z.number().int().min(1).max(MAX_PARALLEL_SHARDS),
    maxShardAttempts: z.number().int().min(1).max(10).optional(),
    maxHistoryEvents: z.number().int().min(100).max(10_000).optional(),
  })
  .describe('Split the source into child runs of at most maxItemsPerShard items, maxParallelShards at once');

/** Whoever can start a run must not make the worker write outside its logs directory. */
const LogsDirectorySchema = z
  .string()
  .min(1)
  .regex(/^(?![/\\])(?![A-Za-z]:)(?!(.*[/\\])?\.\.([/\\]|$))/, 'must be a relative folder without ".." segments')
  .describe("A folder inside the worker's logs directory");

const AdoptJobSchema = z
  .strictObject({ jobId: z.string().min(1).describe('An existing batch job to wait for, collect and cancel') })
  .describe('Adopt a job created elsewhere');

export const BatchPredictionInputSchema = z.strictObject({
  dataset: DatasetSourceSchema.optional().describe('Required unless job is {jobId}'),
  job: z.union([AdoptJobSchema, JobSchema], {
    error:
      'give {jobId} of an existing job, or webhookIds with exactly one of deploymentId, deploymentIds or artifactId',
  }),
  polling: PollingSchema.optional(),
  logs: z
    .strictObject({
      collect: z.boolean(),
      minLevel: z.enum(JOB_LOG_LEVELS).optional(),
      directory: LogsDirectorySchema.optional(),
    })
    .optional(),
  cleanup: z
    .strictObject({
      deleteDatasetOnSuccess: z.boolean().optional(),
      deleteDatasetOnCancel: z.boolean().optional(),
      deleteDatasetOnFailure: z.boolean().optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      apiOutageMs: z
        .number()
        .int()
        .min(60_000)
        .max(7 * 24 * 3_600_000)
        .optional(),
      datasetReadyMs: z
        .number()
        .int()
        .min(60_000)
        .max(30 * 24 * 3_600_000)
        .optional(),
    })
    .optional(),
  allowEmptySource: z.boolean().optional(),
  receiverUrl: httpUrl.optional(),
  retryFailedItems: z
    .strictObject({
      maxRounds: z
        .number()
        .int()
        .min(0)
        .max(MAX_RETRY_ROUNDS)
        .optional()
        .describe('Follow-up rounds (default 1; 0: none)'),
      statuses: z
        .array(z.enum(FAILED_ITEM_STATUSES))
        .min(1)
        .optional()
        .describe('Item statuses sent again (default FailedGather, FailedDeliver)'),
      delayMs: z
        .number()
        .int()
        .min(0)
        .max(24 * 3_600_000)
        .optional()
        .describe('Wait before a follow-up round (default 60000)'),
    })
    .optional()
    .describe('Failed items get a second chance: docs/pipeline.md, "Failed items"'),
  sharding: ShardingSchema.optional(),
  shardIndex: z.number().int().nonnegative().optional().describe('Set by a sharded run on its children'),
});

/** Compile-time check that the schema and the workflow's input type agree. */
type Agrees<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesWorkflowType: Agrees<z.output<typeof BatchPredictionInputSchema>, BatchPredictionInput> = true;
/** What callers may send: the workflow's input, with epoch ms still accepted for the times. */
export type BatchPredictionInputAccepted = z.input<typeof BatchPredictionInputSchema>;
void schemaMatchesWorkflowType;

export class BatchInputError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid batchPrediction input: ${issues.join('; ')}`);
    this.name = 'BatchInputError';
  }
}

/** The inputs this module returned: checked once where they entered, not again on the way to the workflow. */
const parsedInputs = new WeakSet<object>();

/** True for an input `parseBatchPredictionInput` returned (startBatchPrediction then takes it as it is). */
export function isParsedBatchPredictionInput(input: unknown): input is BatchPredictionInput {
  return typeof input === 'object' && input !== null && parsedInputs.has(input);
}

/**
 * Returns the input when valid, its times as ISO-8601 (epoch ms given are converted); throws BatchInputError
 * listing every problem with its path. A `job.stopAtTime` already past is refused here, before anything is uploaded.
 */
export function parseBatchPredictionInput(input: unknown, now = Date.now()): BatchPredictionInput {
  const accepted = checkedInput(input, now);
  parsedInputs.add(accepted);
  return accepted;
}

function checkedInput(input: unknown, now: number): BatchPredictionInput {
  const parsed = BatchPredictionInputSchema.safeParse(input);
  if (!parsed.success) throw new BatchInputError(parsed.error.issues.flatMap((issue) => describeIssue(issue, input)));
  const { dataset, job } = parsed.data;
  if (isAdoptedJob(job)) {
    if (dataset !== undefined)
      throw new BatchInputError(['dataset: not used with job.jobId (the job has its dataset)']);
    if (parsed.data.sharding) throw new BatchInputError(['sharding: not used with job.jobId (the job exists)']);
    return parsed.data;
  }
  if (dataset === undefined) throw new BatchInputError(['dataset: required unless job is {jobId}']);
  if (parsed.data.sharding && 'datasetId' in dataset) {
    throw new BatchInputError(['sharding: needs a source of items (ndjsonPath, ndjsonUrl or items), not a datasetId']);
  }
  if (parsed.data.sharding && 'itemRange' in dataset) {
    throw new BatchInputError(['sharding: the source already names an item range (a shard is not sharded again)']);
  }
  if (job.deploymentIds && !parsed.data.sharding) {
    throw new BatchInputError(['job.deploymentIds: goes with sharding (one run uses one deploymentId)']);
  }
  if (job.stopAtTime !== undefined && epochMsOf(job.stopAtTime) <= now) {
    throw new BatchInputError([`job.stopAtTime: is in the past (${job.stopAtTime})`]);
  }
  return parsed.data;
}

/**
 * `path: message` for one issue. A `job` matching neither shape is explained by the shape it was meant to
 * have (it has `jobId`: adopting; otherwise creating), so the wrong field is named rather than "invalid input".
 */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const path = issue.path.join('.');
  if (issue.code === 'invalid_union' && path === 'job' && issue.errors.length === 2) {
    const job = (input as { job?: unknown }).job;
    const meant = job !== null && typeof job === 'object' && 'jobId' in job ? 0 : 1;
    return issue.errors[meant].map((inner) =>
      `job.${inner.path.join('.') || '(job)'}: ${inner.message}`.replace('job.(job)', 'job'),
    );
  }
  return [`${path || '(input)'}: ${issue.message}`];
}
export function batchPredictionInputJsonSchema(): Record<string, unknown> {
  // What a caller may send (the input side: ISO-8601 or epoch ms for the times).
  return z.toJSONSchema(BatchPredictionInputSchema, { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
}

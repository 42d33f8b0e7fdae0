import { z } from 'zod';
import { type ApiRequest, type ApiRoute, projectPath } from '../app';
import { badRequest, conflict, notFound, parseBody } from '../http';
import { newJobId } from '../ids';
import { listPage } from '../pagination';
import {
  ACTIVE_JOB_STATES,
  COUNTER_NAMES,
  type Counters,
  type DatasetRow,
  JOB_WAITING,
  type JobRow,
  zeroCounters,
} from '../store';
import { jobJson, jobLogsJson } from '../wire';
import { Name } from './webhooks';

const DEFAULT_RUN_MS = 3 * 24 * 60 * 60 * 1000;
const MAX_LOG_ENTRIES = 1000;
const LEVELS = ['Debug', 'Info', 'Warning', 'Error'];

const Millis = z.number().int('must be an integer (milliseconds)').min(0);

const Deployment = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('ExistingDeployment'), deploymentId: z.string().min(1) }),
    z.object({
      kind: z.literal('NewEphemeralDeployment'),
      template: z.looseObject({
        artifactId: z.string().min(1),
        replicas: z.number().int().min(1).max(8).optional(),
      }),
    }),
  ],
  { error: 'must be "ExistingDeployment" or "NewEphemeralDeployment"' },
);

const CreateJob = z.object({
  name: Name,
  spec: z.object({
    datasetId: z.string().min(1),
    startAtTime: Millis.optional(),
    stopAtTime: Millis.optional(),
    deployment: Deployment,
    resultDelivery: z.object({
      destinations: z
        .array(z.object({ kind: z.literal('Webhook'), webhookId: z.string().min(1) }))
        .min(1, 'must name at least one webhook')
        .max(10),
    }),
  }),
});

const UpdateJob = z.object({ spec: z.object({ stopAtTime: Millis }).strict() });

function findJob(request: ApiRequest, id: string): JobRow {
  const row = request.app.store.get<JobRow>('jobs', request.project.id, id);
  if (!row) throw notFound(`job ${id} not found`);
  return row;
}

function toJobJson(request: ApiRequest, row: JobRow) {
  const counters = JSON.parse(row.counters) as Counters;
  const live = request.app.engine.liveCounters(row.id);
  if (live) for (const name of COUNTER_NAMES) counters[name] += live[name];
  return jobJson(row, counters, request.app.options.runningJobOverview);
}

function optionalInteger(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw badRequest(`${name}: must be a non-negative integer`);
  return Number(value);
}

export const jobRoutes: ApiRoute[] = [
  {
    method: 'POST',
    pattern: projectPath('batch/jobs'),
    async handle(request) {
      const { name, spec } = parseBody(CreateJob, await request.body());
      const { store, clock } = request.app;
      const now = clock.now();
      const dataset = store.get<DatasetRow>('datasets', request.project.id, spec.datasetId);
      if (!dataset) throw notFound(`spec.datasetId: dataset ${spec.datasetId} not found`);
      if (dataset.overview !== 'Uploaded') {
        throw conflict(`spec.datasetId: dataset ${spec.datasetId} is ${dataset.overview}, not Uploaded`);
      }
      if (dataset.expiry_time <= now) throw conflict(`spec.datasetId: dataset ${spec.datasetId} has expired`);
      for (const destination of spec.resultDelivery.destinations) {
        if (!store.get('webhooks', request.project.id, destination.webhookId)) {
          throw notFound(`spec.resultDelivery.destinations: webhook ${destination.webhookId} not found`);
        }
      }
      if (spec.deployment.kind === 'ExistingDeployment') {
        const { deploymentId } = spec.deployment;
        if (!request.project.deployments?.some((deployment) => deployment.id === deploymentId)) {
          throw notFound(`spec.deployment.deploymentId: deployment ${deploymentId} not found`);
        }
      }
      const startAt = spec.startAtTime ?? now;
      const stopAt = spec.stopAtTime ?? startAt + DEFAULT_RUN_MS;
      if (stopAt <= startAt) throw badRequest('spec.stopAtTime: must be after startAtTime');
      const row: JobRow = {
        id: newJobId(),
        project_id: request.project.id,
        name,
        dataset_id: spec.datasetId,
        deployment: JSON.stringify(spec.deployment),
        destinations: JSON.stringify(spec.resultDelivery.destinations),
        start_at: startAt,
        stop_at: stopAt,
        overview: JOB_WAITING,
        message: JOB_WAITING,
        reason: null,
        cancelled_at: null,
        status_date: now,
        cursor: 0,
        counters: JSON.stringify(zeroCounters()),
        create_date: now,
        update_date: now,
      };
      store.insertJob(row);
      return toJobJson(request, row);
    },
  },
  {
    method: 'GET',
    pattern: projectPath('batch/jobs'),
    handle: (request) =>
      listPage<JobRow, unknown>(request.app.store, 'jobs', request.project.id, request.url.searchParams, (row) =>
        toJobJson(request, row),
      ),
  },
  {
    method: 'GET',
    pattern: projectPath('batch/jobs/{id}'),
    handle: (request, [id]) => toJobJson(request, findJob(request, id)),
  },
  {
    method: 'PATCH',
    pattern: projectPath('batch/jobs/{id}'),
    async handle(request, [id]) {
      const row = findJob(request, id);
      const { spec } = parseBody(UpdateJob, await request.body());
      if (!ACTIVE_JOB_STATES.includes(row.overview)) {
        throw conflict(`job ${id} is ${row.overview}; only a job that has not ended can be changed`);
      }
      const now = request.app.clock.now();
      // Moving the cutoff to now (or earlier) is how the SDK cancels a job.
      const cancelled = spec.stopAtTime <= now;
      const fields = {
        stop_at: spec.stopAtTime,
        cancelled_at: cancelled ? now : null,
        update_date: now,
      };
      request.app.store.updateJob(id, fields);
      if (cancelled) request.app.engine.tick();
      return toJobJson(request, request.app.store.jobById(id)!);
    },
  },
  {
    method: 'DELETE',
    pattern: projectPath('batch/jobs/{id}'),
    handle(request, [id]) {
      findJob(request, id);
      const { store, engine } = request.app;
      engine.forget(id);
      store.transaction(() => {
        store.deleteJobLogs(id);
        store.deleteRow('jobs', id);
      });
      store.reclaim();
      return { id, deleted: true };
    },
  },
  {
    method: 'GET',
    pattern: projectPath('batch/jobs/{id}/logs'),
    handle(request, [id]) {
      const job = findJob(request, id);
      const params = request.url.searchParams;
      const minLevel = params.get('minLevel') || 'Debug';
      const levelIndex = LEVELS.indexOf(minLevel);
      if (levelIndex < 0) throw badRequest(`minLevel: must be one of ${LEVELS.join(', ')}`);
      const maxEntries = optionalInteger(params, 'maxEntries') ?? MAX_LOG_ENTRIES;
      if (maxEntries < 1 || maxEntries > MAX_LOG_ENTRIES) {
        throw badRequest(`maxEntries: must be from 1 to ${MAX_LOG_ENTRIES}`);
      }
      request.app.engine.flush(id);
      const beforeTime = optionalInteger(params, 'beforeTime');
      const beforeId = params.get('beforeId');
      const before = beforeId ? request.app.store.logPosition(id, beforeId, beforeTime) : undefined;
      if (beforeId && !before) throw badRequest('beforeId: no log entry of this job with this id before beforeTime');
      const entries = request.app.store.logs({
        jobId: id,
        before,
        beforeTime,
        afterTime: optionalInteger(params, 'afterTime'),
        levels: LEVELS.slice(levelIndex),
        limit: maxEntries,
      });
      return jobLogsJson(job, entries);
    },
  },
];

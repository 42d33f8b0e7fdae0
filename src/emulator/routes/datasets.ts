import { z } from 'zod';
import { type ApiRequest, type ApiRoute, projectPath } from '../app';
import { conflict, notFound, parseBody } from '../http';
import { newDatasetId } from '../ids';
import { listPage } from '../pagination';
import type { DatasetRow } from '../store';
import { uploadHeaders } from '../upload-url';
import { datasetJson } from '../wire';
import { Name } from './webhooks';

const UPLOAD_URL_VALIDITY_MS = 12 * 60 * 60 * 1000;
const DATASET_LIFETIME_MS = 10 * 24 * 60 * 60 * 1000;
const MAX_DATASET_BYTES = 100 * 1024 ** 3;

const CreateDataset = z.object({
  name: Name,
  spec: z.object({
    source: z.object({
      kind: z.literal('UploadedNewlineDelimitedJsonFile', {
        error: 'must be "UploadedNewlineDelimitedJsonFile"',
      }),
      sizeBytes: z.number().int('must be an integer').min(1, 'must be at least 1').max(MAX_DATASET_BYTES),
      crc32c: z
        .string()
        .regex(/^[A-Za-z0-9+/]{6}==$/, 'must be the base64 of a 4-byte big-endian CRC32C, e.g. "AAAAAA=="'),
    }),
  }),
});

function toDatasetJson(request: ApiRequest, row: DatasetRow) {
  const { app } = request;
  return datasetJson(row, {
    url: app.signer.url(app.baseUrl(), row.id, row.upload_expires),
    headers: uploadHeaders(row.id, row.size_bytes, row.crc32c),
  });
}

function findDataset(request: ApiRequest, id: string): DatasetRow {
  const row = request.app.store.get<DatasetRow>('datasets', request.project.id, id);
  if (!row) throw notFound(`dataset ${id} not found`);
  return row;
}

export const datasetRoutes: ApiRoute[] = [
  {
    method: 'POST',
    pattern: projectPath('batch/datasets'),
    async handle(request) {
      const { name, spec } = parseBody(CreateDataset, await request.body());
      const now = request.app.clock.now();
      const row: DatasetRow = {
        id: newDatasetId(),
        project_id: request.project.id,
        name,
        size_bytes: spec.source.sizeBytes,
        crc32c: spec.source.crc32c,
        overview: 'Waiting',
        message: 'Waiting for upload',
        status_time: now,
        item_count: 0,
        upload_expires: now + UPLOAD_URL_VALIDITY_MS,
        expiry_time: now + DATASET_LIFETIME_MS,
        create_date: now,
        update_date: now,
      };
      request.app.store.insertDataset(row);
      return toDatasetJson(request, row);
    },
  },
  {
    method: 'GET',
    pattern: projectPath('batch/datasets'),
    handle: (request) =>
      listPage<DatasetRow, unknown>(
        request.app.store,
        'datasets',
        request.project.id,
        request.url.searchParams,
        (row) => toDatasetJson(request, row),
      ),
  },
  {
    method: 'GET',
    pattern: projectPath('batch/datasets/{id}'),
    handle: (request, [id]) => toDatasetJson(request, findDataset(request, id)),
  },
  {
    method: 'DELETE',
    pattern: projectPath('batch/datasets/{id}'),
    async handle(request, [id]) {
      const row = findDataset(request, id);
      if (row.overview === 'Uploading' || row.overview === 'Processing') {
        throw conflict(`dataset ${id} is ${row.overview}; delete it once processing ends`);
      }
      if (request.app.store.activeJobsOnDataset(id) > 0) {
        throw conflict(`dataset ${id} is used by a job that has not finished`);
      }
      request.app.store.deleteRow('datasets', id);
      await request.app.files.remove(id);
      request.app.store.reclaim();
      return { id, deleted: true };
    },
  },
];

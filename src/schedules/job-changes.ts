// A schedule's run input with some job options changed (`schedule update`): what is not mentioned stays.
import { datasetArgumentSource } from '../run-client/dataset-argument';
import type { BatchPredictionInput } from '../workflows/definitions';

export interface BatchScheduleJobChanges {
  /** A new source: an http(s) URL, or a file path (made absolute: the worker reads it at each run). */
  dataset?: string;
  /** The job name of each run. */
  name?: string;
  webhookIds?: string[];
  /** Either switches the model: the other one is cleared. */
  deploymentId?: string;
  artifactId?: string;
}

export function withJobChanges(current: BatchPredictionInput, changes: BatchScheduleJobChanges): BatchPredictionInput {
  const switchesModel = Boolean(changes.deploymentId || changes.artifactId);
  return {
    ...current,
    ...(changes.dataset ? { dataset: datasetArgumentSource(changes.dataset) } : {}),
    job: {
      ...current.job,
      ...(changes.name ? { name: changes.name } : {}),
      ...(changes.webhookIds ? { webhookIds: changes.webhookIds } : {}),
      ...(switchesModel ? { deploymentId: changes.deploymentId, artifactId: changes.artifactId } : {}),
    },
  };
}

// The worker's side of the `datatureBatch` Nexus service: `runBatchPrediction` starts the `batchPrediction`
// workflow in the worker's namespace and task queue (its result completes the operation; the caller's cancel
// becomes the run's cancellation request, with the usual cleanup); `progress` answers the progress query.
import { WorkflowNotFoundError } from '@temporalio/common';
import { getClient, startWorkflow, WorkflowRunOperationHandler } from '@temporalio/nexus';
import * as nexus from 'nexus-rpc';
import { BatchInputError, describeRun, parseBatchPredictionInput } from '../run-client';
import type { batchPrediction } from '../workflows';
import { type BatchPredictionInput, progressQuery, WORKFLOW_TYPE } from '../workflows/definitions';
import { datatureBatchService } from './definition';

export const datatureBatchHandlers = nexus.serviceHandler(datatureBatchService, {
  runBatchPrediction: new WorkflowRunOperationHandler(async (ctx, request) => {
    const input = validInput(request?.input);
    const args: [BatchPredictionInput] = [input];
    return startWorkflow<typeof batchPrediction>(ctx, WORKFLOW_TYPE, {
      workflowId: request.workflowId ?? `batch-nexus-${ctx.requestId}`,
      args,
      ...describeRun(input),
    });
  }),
  progress: async (_ctx, request) => {
    if (typeof request?.workflowId !== 'string' || request.workflowId === '') {
      throw new nexus.HandlerError('BAD_REQUEST', 'progress: workflowId is required');
    }
    try {
      return await getClient().workflow.getHandle(request.workflowId).query(progressQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new nexus.HandlerError('NOT_FOUND', `progress: no run ${request.workflowId}`);
      }
      throw err;
    }
  },
});

/** A bad input is the caller's to fix, not a failure to retry: BAD_REQUEST, naming each field. */
function validInput(input: unknown): BatchPredictionInput {
  try {
    return parseBatchPredictionInput(input);
  } catch (err) {
    if (err instanceof BatchInputError) throw new nexus.HandlerError('BAD_REQUEST', err.message);
    throw err;
  }
}

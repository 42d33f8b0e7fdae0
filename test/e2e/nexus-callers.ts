// Workflows of another team's namespace calling the batch-prediction worker through its Nexus endpoint
// (bundled for the caller worker of nexus-service.test.ts): what docs/nexus.md shows a caller writing.
import { createNexusServiceClient } from '@temporalio/workflow';
import { datatureBatchService, type RunBatchPredictionRequest } from '../../src/nexus-service';
import type { BatchPhase, BatchPredictionResult } from '../../src/workflows/definitions';

export interface ViaNexusResult {
  result: BatchPredictionResult;
  /** The run's phase as the `progress` operation told it once the run had started (when a workflowId was given). */
  phaseWhileRunning?: BatchPhase;
}

export async function batchPredictionViaNexus(
  endpoint: string,
  request: RunBatchPredictionRequest,
): Promise<ViaNexusResult> {
  const datatureBatch = createNexusServiceClient({ service: datatureBatchService, endpoint });
  const operation = await datatureBatch.startOperation('runBatchPrediction', request, {
    scheduleToCloseTimeout: '10 minutes',
  });
  const progress = request.workflowId
    ? await datatureBatch.executeOperation('progress', { workflowId: request.workflowId })
    : undefined;
  return { result: await operation.result(), phaseWhileRunning: progress?.phase };
}

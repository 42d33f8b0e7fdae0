// A Temporal cancellation request that carries its reason, and reading that reason back. The SDK's
// `handle.cancel()` takes none, and the workflow is never told it (the SDK drops it from the activation):
// the reason lives in the history's WorkflowExecutionCancelRequested event, where the Web UI shows it and
// `cancellationReason` finds it. Type-only imports: the worker's activities and the CLI load it directly.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';

/** Asks the server to cancel the workflow's current run, recording `reason` on the cancel request. */
export async function requestCancellation(client: Client, workflowId: string, reason?: string): Promise<void> {
  await client.workflowService.requestCancelWorkflowExecution({
    namespace: client.options.namespace,
    identity: client.options.identity,
    requestId: randomUUID(),
    workflowExecution: { workflowId },
    reason,
  });
}

/** Events read back from the end of the history: the cancel request sits behind the cleanup's few events. */
const EVENTS_FROM_THE_END = 200;

/**
 * The reason given with the latest cancellation request of the run, or undefined when there was none (or
 * none was given). One page of the history, read backwards.
 */
export async function cancellationReason(client: Client, workflowId: string): Promise<string | undefined> {
  const page = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: EVENTS_FROM_THE_END,
  });
  for (const event of page.history?.events ?? []) {
    const request = event.workflowExecutionCancelRequestedEventAttributes;
    if (request) return request.cause || undefined;
  }
  return undefined;
}

// Waiting for a run's end, as `run --wait`, `result` and `demo` report it.
import { describeCleanup } from '../workflows/definitions';
import { RunFailedError } from './errors';
import { queryProgress } from './run-progress';
import type { TemporalSession } from './temporal-client';

/** The run's result, or a RunFailedError (exit 1) carrying the one-line reason. */
export async function awaitRun(session: TemporalSession, workflowId: string): Promise<unknown> {
  const { WorkflowFailedError } = require('@temporalio/client') as typeof import('@temporalio/client');
  const { ApplicationFailure, CancelledFailure } = require('@temporalio/common') as typeof import('@temporalio/common');
  try {
    return await session.client.workflow.getHandle(workflowId).result();
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof CancelledFailure) {
      // A cancellation carries no details: the run's own progress says what it cleaned up (if a worker answers),
      // the history's cancel request says why (the workflow never sees the reason of a request sent without the signal).
      const { cancellationReason } =
        require('../run-client/cancellation') as typeof import('../run-client/cancellation');
      const cleanup = (await queryProgress(session.client.workflow.getHandle(workflowId)))?.cleanup;
      const reason = (await cancellationReason(session.client, workflowId)) ?? cleanup?.reason;
      const why = reason ? ` (${reason})` : '';
      throw new RunFailedError(
        `run ${workflowId} was canceled${why}${cleanup ? `: ${describeCleanup(cleanup)}` : ''}`,
        'Canceled',
      );
    }
    // The workflow ends with its root cause (message and catalogue type); older runs may still say less.
    const type = cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
    const what = err.message.replace(/^Workflow execution /i, '').toLowerCase();
    throw new RunFailedError(
      `run ${workflowId} ${what}: ${cause?.message ?? 'no cause given'}${type ? ` [${type}]` : ''}`,
      type,
    );
  }
}

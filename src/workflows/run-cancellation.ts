// How a run ends on a cancel, one rule for a single run and a sharded parent: the `cancel` signal, the Web UI's
// cancel and handle.cancel() all end the execution Canceled, after the run's own cleanup.
import { CancellationScope, CancelledFailure, condition, log, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WorkflowCancellationRequest } from './activity-contract';
import { cancelSignal } from './definitions';

/**
 * The reason of a cancellation that came without the `cancel` signal (a Temporal cancellation request): the SDK
 * does not hand the request's own reason to the workflow; clients read it from the history (run-client's
 * `cancellationReason`).
 */
export const CANCELLATION_REQUESTED = 'workflow cancellation requested';

export class RunCancellation {
  /** The run's work runs in this scope; the `cancel` signal cancels it. */
  readonly scope = new CancellationScope();
  private readonly root = CancellationScope.current();
  private signalReason?: string;

  constructor() {
    setHandler(cancelSignal, (request) => {
      if (this.signalReason !== undefined) return;
      this.signalReason = request?.reason ?? 'cancel signal';
      this.scope.cancel();
    });
  }

  /** The `cancel` signal's reason, once one came. */
  get reason(): string | undefined {
    return this.signalReason;
  }

  /**
   * Once the scope was cancelled: a signal alone cannot end the execution Canceled, so it is turned into a real
   * cancellation request (`requestCancellation`, the activity); then the run's `cleanUp`, out of reach of the
   * cancel. Returns the failure to throw. `beforeRequest` runs first (a sharded parent shows its phase there).
   */
  async end(steps: {
    requestCancellation: (request: WorkflowCancellationRequest) => Promise<void>;
    cleanUp: (reason: string) => Promise<void>;
    beforeRequest?: () => void;
  }): Promise<CancelledFailure> {
    this.signalReason ??= CANCELLATION_REQUESTED;
    const reason = this.signalReason;
    await CancellationScope.nonCancellable(async () => {
      steps.beforeRequest?.();
      if (!this.root.consideredCancelled) {
        try {
          await steps.requestCancellation({ workflowId: workflowInfo().workflowId, reason });
          await condition(() => this.root.consideredCancelled, '1 minute');
        } catch (err) {
          // Still clean up; the run then ends Failed (cause: cancelled) instead of Canceled.
          log.warn('could not turn the cancel signal into a cancellation request', { error: String(err) });
        }
      }
      await steps.cleanUp(reason);
    });
    return new CancelledFailure(reason);
  }
}

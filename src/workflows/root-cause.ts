// The first ApplicationFailure down a failure's cause chain: what an activity, a check or a child run said went
// wrong. Shared by the pipeline (its own failure) and a sharded run (each failed shard's cause).
import { ApplicationFailure } from '@temporalio/workflow';

export function rootApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let failure: unknown = err, depth = 0; failure && depth < 10; depth++) {
    if (failure instanceof ApplicationFailure) return failure;
    failure = (failure as { cause?: unknown }).cause;
  }
  return undefined;
}

// What a schedule does when a run is due while the previous one is still going: Temporal's overlap
// policies, listed once. Type-only imports, so the CLI parses its --overlap flag without loading the SDK.
import type { ScheduleOverlapPolicy } from '@temporalio/client';
import { BatchScheduleError } from './batch-schedule-error';

export type OverlapPolicy = Exclude<ScheduleOverlapPolicy, undefined>;

export const OVERLAP_POLICIES = [
  'SKIP',
  'BUFFER_ONE',
  'BUFFER_ALL',
  'CANCEL_OTHER',
  'TERMINATE_OTHER',
  'ALLOW_ALL',
] as const satisfies readonly OverlapPolicy[];

/** Compile-time check that the list holds every policy of the SDK (a new one fails the build here). */
type Agrees<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const listsEveryPolicy: Agrees<(typeof OVERLAP_POLICIES)[number], OverlapPolicy> = true;
void listsEveryPolicy;

export function isOverlapPolicy(value: unknown): value is OverlapPolicy {
  return (OVERLAP_POLICIES as readonly unknown[]).includes(value);
}

/** `skip`, `buffer-one`, `BUFFER_ALL`…: a policy as people type it, or a BatchScheduleError naming the choices. */
export function overlapPolicyOf(text: string): OverlapPolicy {
  const policy = text.toUpperCase().replace(/-/g, '_');
  if (!isOverlapPolicy(policy)) {
    throw new BatchScheduleError(`overlap must be one of ${OVERLAP_POLICIES.join(', ')}, got '${text}'`);
  }
  return policy;
}

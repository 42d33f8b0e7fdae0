// Counts over every run of an execution (following continue-as-new): history events and billable actions.
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export interface ExecutionStats {
  runs: number;
  historyEvents: number;
  /** Largest single run's history: what replay and the continue-as-new limit see. */
  largestRunEvents: number;
  activityAttempts: number;
  timers: number;
  signals: number;
  searchAttributeUpserts: number;
  /** Temporal Cloud bills starts, continue-as-new, activity attempts, timers, signals and upserts as actions. */
  billableActions: number;
  timerDurationsMs: number[];
}

/** temporal.api.enums.v1.EventType values. */
const EventType = {
  activityStarted: 11,
  timerStarted: 17,
  signaled: 26,
  upsertSearchAttributes: 40,
  continuedAsNew: 28,
} as const;

export async function executionStats(client: Client, workflowId: string, firstRunId: string): Promise<ExecutionStats> {
  const stats: ExecutionStats = {
    runs: 0,
    historyEvents: 0,
    largestRunEvents: 0,
    activityAttempts: 0,
    timers: 0,
    signals: 0,
    searchAttributeUpserts: 0,
    billableActions: 0,
    timerDurationsMs: [],
  };
  let runId: string | undefined = firstRunId;
  let continuations = 0;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = (history.events ?? []) as temporal.api.history.v1.IHistoryEvent[];
    stats.runs += 1;
    stats.historyEvents += events.length;
    stats.largestRunEvents = Math.max(stats.largestRunEvents, events.length);
    runId = undefined;
    for (const event of events) {
      switch (Number(event.eventType)) {
        case EventType.activityStarted:
          stats.activityAttempts += event.activityTaskStartedEventAttributes?.attempt ?? 1;
          break;
        case EventType.timerStarted: {
          stats.timers += 1;
          const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
          stats.timerDurationsMs.push(Number(timeout?.seconds ?? 0) * 1000 + Math.round((timeout?.nanos ?? 0) / 1e6));
          break;
        }
        case EventType.signaled:
          stats.signals += 1;
          break;
        case EventType.upsertSearchAttributes:
          stats.searchAttributeUpserts += 1;
          break;
        case EventType.continuedAsNew:
          continuations += 1;
          runId = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
          break;
      }
    }
  }
  stats.billableActions =
    1 + continuations + stats.activityAttempts + stats.timers + stats.signals + stats.searchAttributeUpserts;
  return stats;
}

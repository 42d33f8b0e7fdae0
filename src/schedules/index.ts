export { BatchScheduleError } from './batch-schedule-error';
export {
  type BatchScheduleOptions,
  type BatchSchedulePolicies,
  type BatchScheduleTiming,
  checkBatchSchedule,
} from './batch-schedule-options';
export {
  type BatchScheduleChanges,
  type BatchScheduleDetails,
  type BatchScheduleSummary,
  backfillBatchSchedule,
  createBatchSchedule,
  deleteBatchSchedule,
  describeBatchSchedule,
  listBatchSchedules,
  pauseBatchSchedule,
  type RunStatus,
  type ScheduledRun,
  triggerBatchSchedule,
  unpauseBatchSchedule,
  updateBatchSchedule,
} from './batch-schedules';
export { type BatchScheduleJobChanges, withJobChanges } from './job-changes';
export { isOverlapPolicy, OVERLAP_POLICIES, type OverlapPolicy, overlapPolicyOf } from './overlap-policies';

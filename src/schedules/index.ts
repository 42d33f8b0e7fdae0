export {
  BatchScheduleError,
  type BatchScheduleOptions,
  type BatchSchedulePolicies,
  type BatchScheduleTiming,
  OVERLAP_POLICIES,
  type OverlapPolicy,
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

// No imports: the CLI checks its flags with the schedule rules before it loads the Temporal SDK.

/** A schedule that cannot be made as asked (two timings, a bad cron or duration, a fixed dataset): a caller's mistake. */
export class BatchScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchScheduleError';
  }
}

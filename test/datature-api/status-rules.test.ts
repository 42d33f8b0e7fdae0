// Pins the status rules every room shares (src/datature-api/status-rules.ts): a change here changes when
// jobs end, what counts as failed and which items a run sends again.

import { NewestFirstLogCursor } from '../../src/datature-api/log-cursor';
import { JobItemStatusSchema } from '../../src/datature-api/models';
import {
  countersOfItemEnd,
  DEFAULT_RETRY_STATUSES,
  datasetState,
  FAILED_ITEM_STATUSES,
  failedByStage,
  failedItems,
  ITEM_STATUSES,
  isFailedItemEntry,
  itemsAccountedFor,
  JOB_ITEM_COUNTER_NAMES,
  JOB_ITEM_COUNTERS,
  jobHasEnded,
  jobIsDone,
  zeroJobItemCounters,
} from '../../src/datature-api/status-rules';
import { COUNTER_NAMES } from '../../src/emulator/store';

const items = (counts: Partial<ReturnType<typeof zeroJobItemCounters>>) => ({ ...zeroJobItemCounters(), ...counts });

describe('status rules', () => {
  test('the eight counters, in pipeline order, with their wire names; the emulator stores the same', () => {
    expect(JOB_ITEM_COUNTERS).toEqual({
      gathered: 'Gathered',
      failedGather: 'FailedGather',
      preprocessed: 'Preprocessed',
      failedProcess: 'FailedProcess',
      predicted: 'Predicted',
      failedPredict: 'FailedPredict',
      delivered: 'Delivered',
      failedDeliver: 'FailedDeliver',
    });
    expect(JOB_ITEM_COUNTER_NAMES).toHaveLength(8);
    expect([...COUNTER_NAMES]).toEqual(Object.values(JOB_ITEM_COUNTERS));
    expect(JobItemStatusSchema.parse({ FailedGather: 2, Extra: 1 })).toEqual({
      ...items({ failedGather: 2 }),
      Extra: 1,
    });
  });

  test('item statuses: one per stage; gather and deliver failures are retried by default', () => {
    expect(ITEM_STATUSES).toEqual(['Delivered', 'FailedGather', 'FailedProcess', 'FailedPredict', 'FailedDeliver']);
    expect(FAILED_ITEM_STATUSES).toEqual(ITEM_STATUSES.slice(1));
    expect(DEFAULT_RETRY_STATUSES).toEqual(['FailedGather', 'FailedDeliver']);
    expect(isFailedItemEntry({ status: 'FailedGather', level: 'Error' })).toBe(true);
    expect(isFailedItemEntry({ status: 'FailedSomethingNew', level: 'Info' })).toBe(true);
    expect(isFailedItemEntry({ status: 'Delivered', level: 'Info' })).toBe(false);
  });

  test('a failed item counts in its stage and in FailedDeliver, so Delivered + FailedDeliver accounts for every item', () => {
    expect(countersOfItemEnd('Delivered')).toEqual({ Delivered: 1 });
    expect(countersOfItemEnd('FailedGather')).toEqual({ FailedGather: 1, FailedDeliver: 1 });
    expect(countersOfItemEnd('FailedPredict')).toEqual({ FailedPredict: 1, FailedDeliver: 1 });
    expect(countersOfItemEnd('FailedDeliver')).toEqual({ FailedDeliver: 1 });
    // 40 delivered, 3 gather + 2 process + 1 predict + 4 delivery failures: 50 items.
    const counts = items({ delivered: 40, failedGather: 3, failedProcess: 2, failedPredict: 1, failedDeliver: 10 });
    expect(itemsAccountedFor(counts)).toBe(50);
    expect(failedByStage(counts)).toEqual({ gather: 3, process: 2, predict: 1, deliver: 4 });
    expect(failedItems(counts)).toBe(10);
  });

  test('job completion: Reached, or every item accounted for; an unknown count (0) leaves only Reached', () => {
    const running = { overview: 'Waiting', items: items({ delivered: 45, failedDeliver: 4 }) };
    expect(jobIsDone(running, 50)).toBe(false);
    expect(jobIsDone({ ...running, items: items({ delivered: 46, failedDeliver: 4 }) }, 50)).toBe(true);
    expect(jobIsDone({ ...running, items: items({ delivered: 47, failedDeliver: 4 }) }, 50)).toBe(true);
    expect(jobIsDone(running, 0)).toBe(false);
    expect(jobIsDone(running, undefined)).toBe(false);
    expect(jobIsDone({ ...running, overview: 'Reached' }, 50)).toBe(true);
    expect(jobHasEnded('Reached')).toBe(true);
    expect(jobHasEnded('Failed')).toBe(true);
    expect(jobHasEnded('Waiting')).toBe(false);
  });

  test('dataset readiness: Uploaded is ready, FailedUpload and FailedProcessing end it', () => {
    expect(datasetState('Uploaded')).toBe('ready');
    expect(datasetState('FailedUpload')).toBe('failed');
    expect(datasetState('FailedProcessing')).toBe('failed');
    for (const overview of ['Waiting', 'Uploading', 'Processing', 'Processed'])
      expect(datasetState(overview)).toBe('pending');
  });

  test('log entries read newest first are de-duplicated by (createTime, id), remembering only the oldest millisecond', () => {
    const cursor = new NewestFirstLogCursor();
    expect(cursor.resumeBeforeTime).toBeUndefined();
    expect(cursor.admit({ createTime: 20, id: 'a' })).toBe(true);
    expect(cursor.admit({ createTime: 10, id: 'b' })).toBe(true);
    expect(cursor.resumeBeforeTime).toBe(11);
    // The next page (beforeTime 11) repeats b, then brings c of the same millisecond and older entries.
    expect(cursor.admit({ createTime: 10, id: 'b' })).toBe(false);
    expect(cursor.admit({ createTime: 10, id: 'c' })).toBe(true);
    expect(cursor.admit({ createTime: 20, id: 'z' })).toBe(false);
    expect(cursor.admit({ createTime: 5, id: 'b' })).toBe(true);
    expect(cursor.state()).toEqual({ oldestTime: 5, idsAtOldestTime: ['b'] });
    const resumed = new NewestFirstLogCursor({ oldestTime: 10, idsAtOldestTime: ['b', 'c'] });
    expect(resumed.admit({ createTime: 10, id: 'c' })).toBe(false);
    expect(resumed.admit({ createTime: 10, id: 'd' })).toBe(true);
  });
});

// When a job's items are all accounted for. No imports: the workflow sandbox can use it as it is.

/**
 * Items of a job that are done, delivered or not: `Delivered + FailedDeliver`, the completion test of the
 * official SDK's `jobs.wait_until_done` (reference section 5.5). An item failing at any stage never has its
 * result delivered, so the API (and the emulator) count it in `FailedDeliver` as well as in its stage's
 * counter (`FailedGather`, `FailedProcess`, `FailedPredict`): adding those would count it twice and end a
 * wait early. The job is done once this reaches the dataset's `itemCount`.
 */
export function itemsAccountedFor(items: { readonly delivered: number; readonly failedDeliver: number }): number {
  return items.delivered + items.failedDeliver;
}

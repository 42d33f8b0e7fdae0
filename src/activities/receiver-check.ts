import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import type { ReceiverWatch } from '../workflows/activity-contract';
import { FailureType } from '../workflows/failures';

function receiverRoute(receiverUrl: string, route: string): URL {
  return new URL(route, receiverUrl.endsWith('/') ? receiverUrl : `${receiverUrl}/`);
}

/**
 * `POST <receiverUrl>/watches`. Best effort: a receiver that cannot be told only means the run notices the
 * end at its next look instead of at once, so nothing here fails the caller.
 */
export async function watchWithReceiver(watch: ReceiverWatch, jobId: string): Promise<void> {
  const url = receiverRoute(watch.receiverUrl, 'watches');
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId, itemCount: watch.itemCount, workflowId: watch.workflowId }),
      signal: AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(10_000)]),
    });
    await response.body.dump();
    if (response.statusCode !== 200)
      log.warn('the receiver refused the watch', { receiver: url.origin, status: response.statusCode });
  } catch (error) {
    log.warn('could not tell the receiver about the job', { receiver: url.origin, error: String(error) });
  }
}

/** `GET <receiverUrl>/counts?jobId=` -> `{ jobId, predictions }`. */
export async function countReceiverPredictions(params: {
  receiverUrl: string;
  jobId: string;
}): Promise<{ predictions: number }> {
  const url = receiverRoute(params.receiverUrl, 'counts');
  url.searchParams.set('jobId', params.jobId);
  const response = await request(url, { signal: Context.current().cancellationSignal });
  const body = (await response.body.json().catch(() => undefined)) as { predictions?: unknown } | undefined;
  if (response.statusCode !== 200 || typeof body?.predictions !== 'number') {
    throw ApplicationFailure.create({
      message: `receiver ${url.origin} answered ${response.statusCode} without a prediction count`,
      type: FailureType.ReceiverError,
      nonRetryable: response.statusCode >= 400 && response.statusCode < 500,
    });
  }
  return { predictions: body.predictions };
}

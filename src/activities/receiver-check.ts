import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';

/** `GET <receiverUrl>/counts?jobId=` -> `{ jobId, predictions }`. */
export async function countReceiverPredictions(params: {
  receiverUrl: string;
  jobId: string;
}): Promise<{ predictions: number }> {
  const url = new URL('counts', params.receiverUrl.endsWith('/') ? params.receiverUrl : params.receiverUrl + '/');
  url.searchParams.set('jobId', params.jobId);
  const response = await request(url, { signal: Context.current().cancellationSignal });
  const body = (await response.body.json().catch(() => undefined)) as { predictions?: unknown } | undefined;
  if (response.statusCode !== 200 || typeof body?.predictions !== 'number') {
    throw ApplicationFailure.create({
      message: `receiver ${url.origin} answered ${response.statusCode} without a prediction count`,
      type: 'ReceiverError',
      nonRetryable: response.statusCode >= 400 && response.statusCode < 500,
    });
  }
  return { predictions: body.predictions };
}

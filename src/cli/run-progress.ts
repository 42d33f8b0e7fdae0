import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { type BatchPhase, type BatchProgress, progressQuery } from '../workflows/definitions';
import { formatBytes, ProgressBoard } from './progress-bar';

const uploadPhases: BatchPhase[] = ['validating', 'uploading', 'waiting-for-dataset'];
const itemCounters = ['gathered', 'predicted', 'delivered'] as const;

/**
 * The run's progress, or undefined when no worker answers within `timeoutMs`: a query needs a worker,
 * and without one the server would hold the call for ~30 s.
 */
export async function queryProgress(handle: WorkflowHandle, timeoutMs = 3000): Promise<BatchProgress | undefined> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      handle.query(progressQuery),
      sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => undefined),
    ]);
  } catch {
    return undefined;
  } finally {
    timeout.abort();
  }
}

/**
 * Polls the `progress` query and draws one bar per phase until the run ends: the dataset upload
 * (when the caller knows the file's size; the query tells only whether the upload is done, not bytes),
 * then items gathered, predicted and delivered against the dataset's item count. Resolves when the
 * run ends, whatever its outcome (read that with `handle.result()`).
 */
export async function watchRun(
  handle: WorkflowHandle,
  options: { uploadBytes?: number; pollMs?: number } = {},
): Promise<void> {
  const board = new ProgressBoard();
  const draw = (progress: BatchProgress, final: boolean) => {
    const uploadTotal = options.uploadBytes;
    if (uploadTotal) {
      const uploaded = !uploadPhases.includes(progress.phase);
      board.set('upload', uploaded ? uploadTotal : 0, uploadTotal, formatBytes);
    }
    const items = progress.job?.items;
    for (const counter of itemCounters) {
      // A bar appears once its phase has started, so the display follows the pipeline.
      if (!items || (items[counter] === 0 && !board.has(counter) && !final)) continue;
      board.set(counter, items[counter], progress.itemCount);
    }
    board.render(final);
  };

  let settled = false;
  const ended = handle.result().then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  let last: BatchProgress | undefined;
  while (!settled) {
    const progress = await queryProgress(handle);
    if (progress) {
      last = progress;
      draw(progress, false);
    }
    await Promise.race([ended, sleep(options.pollMs ?? 300)]);
  }
  // A finished run whose worker is gone cannot answer; then the last view is final.
  last = (await queryProgress(handle)) ?? last;
  if (last) draw(last, true);
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { formatBytes, ProgressBar } from './progress-bar';

/** The parts of the workflow's `progress` query the CLI draws; other fields are shown as-is by `status`. */
export interface RunProgressView {
  phase?: string;
  jobId?: string;
  datasetId?: string;
  upload?: { sentBytes?: number; totalBytes?: number };
  itemCount?: number;
  items?: Record<string, number | undefined>;
}

const itemPhases = ['gathered', 'predicted', 'delivered'] as const;

/**
 * Polls the `progress` query and draws one bar per phase (upload bytes, then items gathered,
 * predicted and delivered) until the run ends; resolves with the run's outcome.
 */
export async function watchRun<T>(handle: WorkflowHandle, pollMs = 500): Promise<T> {
  const bars = new Map<string, ProgressBar>();
  const bar = (label: string, formatValue?: (value: number) => string) => {
    let existing = bars.get(label);
    if (!existing) {
      existing = new ProgressBar(label, { formatValue });
      bars.set(label, existing);
    }
    return existing;
  };
  let settled = false;
  const outcome = handle.result().finally(() => {
    settled = true;
  });
  let last: RunProgressView | undefined;
  const draw = (progress: RunProgressView, final: boolean) => {
    const show = (label: string, current: number, total: number | undefined, format?: (v: number) => string) => {
      const target = bar(label, format);
      if (final || (total !== undefined && current >= total)) target.finish(current, total);
      else target.update(current, total);
    };
    const upload = progress.upload;
    if (upload?.totalBytes) show('upload', upload.sentBytes ?? 0, upload.totalBytes, formatBytes);
    if (progress.items) {
      // Each item phase gets its bar once the previous one has started, so the display follows the pipeline.
      for (const phase of itemPhases) {
        const current = progress.items[phase];
        if (current === undefined || (current === 0 && !bars.has(phase) && !final)) continue;
        show(phase, current, progress.itemCount);
      }
    }
  };
  while (!settled) {
    try {
      last = (await handle.query<RunProgressView>('progress')) ?? last;
      if (last) draw(last, false);
    } catch {
      // The query fails while no worker has picked the run up yet; keep waiting for it.
    }
    await Promise.race([outcome.catch(() => {}), sleep(pollMs)]);
  }
  try {
    last = (await handle.query<RunProgressView>('progress')) ?? last;
  } catch {
    // A finished run whose worker is gone cannot answer; keep the last view.
  }
  if (last) draw(last, true);
  return outcome as Promise<T>;
}

// The Web UI tells the story, proved in a real browser: Debian's Chromium (playwright-core) on the dev
// server's own Web UI. A run held in waiting-for-job (the emulator's `gather: { hold: true }` fault keeps its
// job running) shows its summary, details and live current details; the workflow list filtered by
// `BatchPhase = "waiting-for-job"` holds it and not a run in another phase; "Request Cancellation" ends it
// Canceled with its Datature job cancelled, and the page then says what was cleaned up.
// Screenshots: test-output/web-ui/*.png (git-ignored).
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Browser, Page } from 'playwright-core';
import { getProgress, startBatchPrediction } from '../../src/run-client';
import { launchChromium, screenshotPath } from './browser';
import { untilPhase, useStackWithWorker } from './harness';

const taskQueue = 'e2e-web-ui';
/** A dataset URL's query may be a signature: it must never reach the page. */
const SIGNATURE = 'X-Goog-Signature=must-not-show-0123456789';

let browser: Browser | undefined;

// First, so a machine without Chromium fails here, loudly, before anything else starts.
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
// .ci/run fails a suite that leaves a process behind.
afterAll(async () => {
  await browser?.close();
});

const suite = useStackWithWorker(taskQueue, { webUi: true });

/** The text of one of the run page's rendered markdown panes (each is an iframe), once it shows `marker`. */
async function pane(page: Page, id: 'summary' | 'details' | 'current-details', marker: string): Promise<string> {
  const body = page.frameLocator(`#user-metadata-${id}`).locator('body');
  await body.getByText(marker).first().waitFor();
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator; the text as a person sees it
  return body.innerText();
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

test('a running run tells its story in the Web UI; the list filters by BatchPhase; Request Cancellation cleans up', async () => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const namespace = suite.stack.env.namespace ?? 'default';
  const ui = `${suite.stack.webUiUrl}/namespaces/${namespace}`;

  await suite.stack.setFaults({ gather: { hold: true } });
  suite.stack.writeDataset('web-ui.ndjson', 12);
  const handle = await startBatchPrediction(
    suite.stack.env.client,
    {
      dataset: { ndjsonUrl: `${suite.stack.sourceUrl('web-ui.ndjson')}?${SIGNATURE}` },
      job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
      polling: { minIntervalMs: 1000, maxIntervalMs: 2000 },
      logs: { collect: true },
    },
    { taskQueue, workflowId: 'web-ui-waiting' },
  );
  // A run in another phase, which the BatchPhase filter must leave out: its source answers 404.
  const other = await startBatchPrediction(
    suite.stack.env.client,
    {
      dataset: { ndjsonUrl: suite.stack.sourceUrl('missing.ndjson') },
      job: { deploymentId: suite.stack.emulator.deploymentId, webhookIds: [suite.stack.webhookId] },
    },
    { taskQueue, workflowId: 'web-ui-other' },
  );
  await untilPhase(handle, 'waiting-for-job');
  // Wait until the run has looked at its job once, so the details hold the job's counters.
  const { jobId } = await until('a first look at the job', async () => {
    const progress = await getProgress(handle);
    return progress.polls >= 1 ? progress : undefined;
  });
  await other.result().catch(() => undefined);

  // The run's page: static summary and details, live current details.
  await page.goto(`${ui}/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/user-metadata`);
  await page.getByText('Current Details').first().waitFor();
  const summary = await pane(page, 'summary', 'batch prediction');
  expect(summary).toContain(
    `batch prediction: ${suite.stack.sourceUrl('web-ui.ndjson')}?[REDACTED] → deployment ${suite.stack.emulator.deploymentId}`,
  );
  const details = await pane(page, 'details', 'model');
  expect(details).toContain(`dataset: ${suite.stack.sourceUrl('web-ui.ndjson')}?[REDACTED]`);
  expect(details).toContain(`model: deployment ${suite.stack.emulator.deploymentId}`);
  expect(details).toContain('logs: collected');
  const live = await pane(page, 'current-details', 'next look');
  expect(live).toContain('phase: waiting-for-job');
  expect(live).toMatch(/dataset: dataset_\S+ \(12 items\)/);
  expect(live).toContain(`job: ${jobId} (`);
  expect(live).toMatch(
    /progress: \d+ of 12 items \(\d+ %\): gathered \d+, preprocessed \d+, predicted \d+, delivered \d+; failed 0/,
  );
  expect(live).toMatch(/next look: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in \d+ s; \d+ looks so far\)/);
  // Summary and details mask it. (The input pane of the history tab shows the input itself: the worker needs
  // the URL as given to download it.)
  expect(await page.content()).not.toContain('must-not-show');
  await page.screenshot({ path: screenshotPath('web-ui', '1-run-waiting-for-job.png'), fullPage: true });

  // The timer's label in the event history.
  await page.goto(`${ui}/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/history`);
  await page
    .getByText(/waiting for job: \d+ % — next look in \d+ s/)
    .first()
    .waitFor();
  await page.screenshot({ path: screenshotPath('web-ui', '2-run-history.png'), fullPage: true });

  // The list, filtered by the phase: this run, not the other one (which does appear unfiltered).
  await page.goto(`${ui}/workflows`);
  await page.getByRole('link', { name: 'web-ui-other' }).waitFor();
  await page.goto(`${ui}/workflows?query=${encodeURIComponent('BatchPhase = "waiting-for-job"')}`);
  await page.getByRole('link', { name: 'web-ui-waiting' }).waitFor();
  expect(await page.getByRole('link', { name: 'web-ui-other' }).count()).toBe(0);
  await page.getByText('BatchPhase = "waiting-for-job"').first().waitFor();
  await page.screenshot({ path: screenshotPath('web-ui', '3-list-filtered-by-phase.png'), fullPage: true });

  // Request Cancellation, as a person would: the button, then the dialog's Confirm.
  await page.getByRole('link', { name: 'web-ui-waiting' }).click();
  await page.getByRole('button', { name: 'Request Cancellation' }).click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  const cancelledAt = await until('the job cancelled', async () => {
    const job = await suite.stack.datatureApi.jobs.get(jobId!);
    return job.status.cancelledAt ?? undefined;
  });
  // Release the held items, so the cancelled job finishes its in-flight ones and the cleanup sees it stop.
  await suite.stack.setFaults({});
  const error = await handle.result().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  expect(cancelledAt).toEqual(expect.any(Number));
  expect((await getProgress(handle)).cleanup?.jobCancelledAt).toBe(cancelledAt);

  // The page of the cancelled run says what was cleaned up.
  await page.goto(`${ui}/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/user-metadata`);
  await page
    .getByText(/^canceled$/i)
    .first()
    .waitFor();
  const after = await pane(page, 'current-details', 'cleaned up');
  expect(after).toContain('phase: cancelled');
  expect(after).not.toContain('next look');
  expect(after).toContain(
    `cleaned up (workflow cancellation requested): job ${jobId} cancelled at ${new Date(cancelledAt).toISOString()}`,
  );
  expect(after).toMatch(/\d+ log entries in \S+\.logs\.ndjson/);
  await page.screenshot({ path: screenshotPath('web-ui', '4-run-cancelled.png'), fullPage: true });
});

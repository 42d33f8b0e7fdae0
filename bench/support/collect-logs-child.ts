// The workflow's log collection (the collectLogs activity, as a worker runs it) in its own process;
// MockActivityEnvironment only hands it an activity context. argv: <jobId> <logsDir>; env: the emulator's.
// Prints the activity's LogsSummary and the process's RSS before it ran (the modules alone) as one JSON line.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';

const [jobId, logsDir] = process.argv.slice(2);
const rssBeforeMiB = process.memoryUsage().rss / 1024 / 1024;
const activities = createActivities({
  secretKey: process.env.DATATURE_SECRET_KEY!,
  projectId: process.env.DATATURE_PROJECT_ID!,
  baseUrl: process.env.DATATURE_API_BASE_URL!,
  logsDir,
});
new MockActivityEnvironment()
  .run(activities.collectLogs, { jobId, fileName: 'bench.logs.ndjson' })
  .then((summary) => {
    process.stdout.write(`${JSON.stringify({ ...(summary as object), rssBeforeMiB })}\n`);
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });

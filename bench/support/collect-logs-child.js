// The workflow's log collection (the collectLogs activity, as a worker runs it) in its own process, from the
// package's build as an installed worker loads it (plain JavaScript: no TypeScript loader in the process);
// MockActivityEnvironment only hands it an activity context. argv: <dist folder> <jobId> <logsDir>; env: the
// emulator's. Prints the activity's LogsSummary and the process's RSS before it ran (the modules alone).
const { join } = require('node:path');
const { MockActivityEnvironment } = require('@temporalio/testing');

const [dist, jobId, logsDir] = process.argv.slice(2);
const { createActivities } = require(join(dist, 'activities'));
const rssBeforeMiB = process.memoryUsage().rss / 1024 / 1024;
const activities = createActivities({
  secretKey: process.env.DATATURE_SECRET_KEY,
  projectId: process.env.DATATURE_PROJECT_ID,
  baseUrl: process.env.DATATURE_API_BASE_URL,
  logsDir,
});
new MockActivityEnvironment()
  .run(activities.collectLogs, { jobId, fileName: 'bench.logs.ndjson' })
  .then((summary) => {
    process.stdout.write(`${JSON.stringify({ ...summary, rssBeforeMiB })}\n`);
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });

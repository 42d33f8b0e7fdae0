import type { Command } from 'commander';
import { type GlobalOptions, parseIntFlag, resolveApiConfig, resolveTemporalConfig } from '../config';
import { Output } from '../output';
import { examples } from '../program';

/** `worker`: runs the batchPrediction worker against the configured Temporal and API until Ctrl-C. */
export function register(program: Command): void {
  program
    .command('worker')
    .description('run a worker for batchPrediction runs against the configured Temporal and Datature API')
    .addHelpText(
      'after',
      examples(
        'TEMPORAL_ADDRESS=localhost:7233 DATATURE_PROJECT_ID=proj_... DATATURE_SECRET_KEY=... datature-batch worker',
        'datature-batch worker --metrics-port 9464   # Prometheus metrics at http://<host>:9464/metrics',
      ),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on 0.0.0.0:<port>/metrics (default: env DATATURE_BATCH_METRICS_ADDRESS, else off)',
      parseIntFlag(1),
    )
    .option(
      '--shutdown-grace <seconds>',
      'on SIGTERM, how long in-flight activities may finish before they are cancelled and retried elsewhere (default 30)',
      parseIntFlag(0),
    )
    .action(async (opts: { metricsPort?: number; shutdownGrace?: number }, command: Command) => {
      const output = Output.of(command);
      const globals = command.optsWithGlobals<GlobalOptions>();
      const temporal = resolveTemporalConfig(globals);
      const api = resolveApiConfig(globals);
      output.info(`worker polling ${temporal.taskQueue} on ${temporal.address} (namespace ${temporal.namespace})`);
      const { runWorker } = require('../../worker') as typeof import('../../worker');
      await runWorker({
        temporal,
        api,
        metricsAddress: opts.metricsPort === undefined ? undefined : String(opts.metricsPort),
        onMetrics: (url) => output.info(`metrics at ${url}`),
        shutdownGraceMs: opts.shutdownGrace === undefined ? undefined : opts.shutdownGrace * 1000,
      });
    });
}

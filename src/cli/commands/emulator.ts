import type { Command } from 'commander';
import { parseIntFlag } from '../config';
import { Output } from '../output';
import { examples } from '../program';
import { waitForShutdownSignal } from '../shutdown';

interface EmulatorFlags {
  port: number;
  host: string;
  db?: string;
  admin?: boolean;
  runningJobOverview?: string;
}

/** `emulator`: the local Datature batch API in the foreground until Ctrl-C. */
export function register(program: Command): void {
  program
    .command('emulator')
    .description('run the local emulator of the Datature batch API in the foreground')
    .option('--port <port>', 'port to listen on', parseIntFlag(0), 4010)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--db <file>', 'SQLite file to persist state in (default: in memory)')
    .option('--admin', 'mount the /_emulator admin routes (faults, clock, state)')
    .option(
      '--running-job-overview <value>',
      'job status.overview and message while items flow (default Waiting, as in the API docs; Running tests a client against a value the SDK does not know)',
    )
    .addHelpText('after', examples('datature-batch emulator --port 4010 --db .data/emulator.db --admin'))
    .action(async (opts: EmulatorFlags, command: Command) => {
      const output = Output.of(command);
      const { startEmulator, DEV_SECRET_KEY } = require('../../emulator') as typeof import('../../emulator');
      const emulator = await startEmulator({
        host: opts.host,
        port: opts.port,
        dbPath: opts.db,
        adminRoutes: opts.admin,
        runningJobOverview: opts.runningJobOverview,
      });
      // The dev key is a published constant (docs/emulator.md), not a secret; a configured key is never shown.
      const secretKey = emulator.secretKey === DEV_SECRET_KEY ? DEV_SECRET_KEY : '<the configured key>';
      const env = {
        DATATURE_API_BASE_URL: emulator.url,
        DATATURE_PROJECT_ID: emulator.projectId,
        DATATURE_SECRET_KEY: secretKey,
      };
      output.result(
        {
          url: emulator.url,
          projectId: emulator.projectId,
          deploymentId: emulator.deploymentId,
          runningJobOverview: emulator.runningJobOverview,
          env,
        },
        () =>
          [
            `emulator listening on ${emulator.url} (state ${opts.db ?? 'in memory'}, admin routes ${opts.admin ? 'on' : 'off'})`,
            `running jobs report status.overview ${emulator.runningJobOverview}`,
            `deployment ${emulator.deploymentId}`,
            ...Object.entries(env).map(([name, value]) => `export ${name}=${value}`),
          ].join('\n'),
      );
      await waitForShutdownSignal();
      await emulator.close();
    });
}

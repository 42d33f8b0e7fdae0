import type { Command } from 'commander';
import { parseIntFlag } from '../config';
import { Output } from '../output';
import { examples } from '../program';
import { waitForShutdownSignal } from '../shutdown';

/** `emulator`: the local Datature batch API in the foreground until Ctrl-C. */
export function register(program: Command): void {
  program
    .command('emulator')
    .description('run the local emulator of the Datature batch API in the foreground')
    .option('--port <port>', 'port to listen on', parseIntFlag(0), 4010)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--db <file>', 'SQLite file to persist state in (default: in memory)')
    .option('--admin', 'mount the /_emulator admin routes (faults, clock, state)')
    .addHelpText('after', examples('datature-batch emulator --port 4010 --db .data/emulator.db --admin'))
    .action(async (opts: { port: number; host: string; db?: string; admin?: boolean }, command: Command) => {
      const output = Output.of(command);
      const { startEmulator } = require('../../emulator') as typeof import('../../emulator');
      const emulator = await startEmulator({
        host: opts.host,
        port: opts.port,
        dbPath: opts.db,
        adminRoutes: opts.admin,
      });
      output.result({ url: emulator.url, projectId: emulator.projectId }, () =>
        [
          `emulator listening on ${emulator.url}${opts.admin ? ' (admin routes on)' : ''}`,
          'use it with:',
          `  export DATATURE_API_BASE_URL=${emulator.url}`,
          `  export DATATURE_PROJECT_ID=${emulator.projectId}`,
          `  export DATATURE_SECRET_KEY=<the emulator's dev key, see docs/emulator.md>`,
        ].join('\n'),
      );
      await waitForShutdownSignal();
      await emulator.close();
    });
}

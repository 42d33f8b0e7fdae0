import { parseArgs } from 'node:util';
import { type RunningEmulator, startEmulator } from './index';
import { DEV_SECRET_KEY } from './options';

/**
 * `datature-batch emulator [--port 4010] [--host 127.0.0.1] [--db FILE] [--admin]`: starts the emulator,
 * prints where it listens and the dev credentials, and closes cleanly on SIGINT/SIGTERM.
 */
export async function runEmulatorCli(argv: string[]): Promise<RunningEmulator> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string' },
      admin: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  const emulator = await startEmulator({ port, host: values.host, dbPath: values.db, adminRoutes: values.admin });
  console.log(`Nexus batch API emulator listening on ${emulator.url}`);
  console.log(`  DATATURE_API_BASE_URL=${emulator.url}`);
  // The dev key is a published constant (docs/emulator.md), not a secret, so it may be printed.
  const key = emulator.secretKey === DEV_SECRET_KEY ? DEV_SECRET_KEY : '(configured)';
  console.log(`  project ${emulator.projectId}  Secret-Key ${key}  deployment ${emulator.deploymentId}`);
  console.log(`  state: ${values.db ?? 'in memory'}; admin routes ${values.admin ? 'on' : 'off'}`);
  const shutdown = () => {
    emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return emulator;
}

// The emulator in its own process, so a bench measures the client alone; prints one JSON line with its
// address and dev credentials, then runs until killed. argv: [dbPath]; env EMULATOR_OPTIONS: options as JSON.
import { startEmulator } from '../../src/emulator';

startEmulator({
  port: 0,
  adminRoutes: true,
  dbPath: process.argv[2] || undefined,
  ...JSON.parse(process.env.EMULATOR_OPTIONS ?? '{}'),
}).then((emulator) => {
  // The bench holds our stdin open: when it dies, however, the emulator goes too.
  process.stdin.on('end', () => process.exit(0)).resume();
  const { url, projectId, secretKey, deploymentId } = emulator;
  process.stdout.write(`${JSON.stringify({ url, projectId, secretKey, deploymentId })}\n`);
});

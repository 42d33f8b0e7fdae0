import type { Command } from 'commander';
import { parseIntFlag } from '../config';
import { Output } from '../output';
import { examples } from '../program';
import { waitForShutdownSignal } from '../shutdown';
import { connectTemporal } from '../temporal-client';

interface ReceiverFlags {
  port: number;
  host: string;
  secretFile: string;
  out: string;
  grace: number;
  tolerance: number;
  maxBodyBytes: number;
  signalRuns: boolean;
}

/** `receiver`: the verified webhook receiver in the foreground until Ctrl-C. */
export function register(program: Command): void {
  program
    .command('receiver')
    .description('receive signed webhook deliveries and append each prediction once to an NDJSON file')
    .requiredOption('--secret-file <file>', 'file holding the current webhook secret (re-read when it changes)')
    .requiredOption('--out <file>', 'NDJSON file the predictions are appended to')
    .option('--port <port>', 'port to listen on', parseIntFlag(0), 4020)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--grace <seconds>',
      'how long the previous secret is still accepted after a rotation',
      parseIntFlag(0),
      300,
    )
    .option('--tolerance <seconds>', 'accepted age of a delivery timestamp', parseIntFlag(1), 300)
    .option('--max-body-bytes <bytes>', 'largest accepted delivery body', parseIntFlag(1), 1024 * 1024)
    .option(
      '--no-signal-runs',
      'do not send `checkNow` to a run whose every item is here (by default the receiver connects to Temporal for it)',
    )
    .addHelpText(
      'after',
      examples(
        'datature-batch receiver --port 4020 --secret-file .data/webhook.secret --out results.ndjson --grace 300',
      ),
    )
    .action(async (flags: ReceiverFlags, command: Command) => {
      const output = Output.of(command);
      const { startReceiver } = require('../../receiver') as typeof import('../../receiver');
      const { checkNowNotifier } = require('../../run-client') as typeof import('../../run-client');
      const notifier = checkNowNotifier(() => connectTemporal(command));
      const receiver = await startReceiver({
        onJobComplete: flags.signalRuns ? notifier.onJobComplete : undefined,
        host: flags.host,
        port: flags.port,
        secretFile: flags.secretFile,
        outFile: flags.out,
        graceSeconds: flags.grace,
        toleranceSeconds: flags.tolerance,
        maxBodyBytes: flags.maxBodyBytes,
      });
      output.result(
        { url: receiver.url, outFile: flags.out, predictions: receiver.total },
        () =>
          `receiver listening on ${receiver.url} (webhook endpoint), appending to ${flags.out} ` +
          `(${receiver.total} predictions already there)`,
      );
      await waitForShutdownSignal();
      await receiver.close();
      await notifier.close();
      output.info(`receiver stopped with ${receiver.total} predictions in ${flags.out}`);
    });
}

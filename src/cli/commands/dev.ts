import type { Command } from 'commander';
import { type GlobalOptions, parseIntFlag } from '../config';
import { Output } from '../output';
import { examples } from '../program';
import { assertNothingExternal, type StackFlags, stackEnv, startStackFrom, withStackFlags } from '../stack-flags';

/** `dev`: the embedded stack in the foreground until Ctrl-C. */
export function register(program: Command): void {
  withStackFlags(
    program
      .command('dev')
      .description('start the local stack (Temporal dev server + UI, emulator, receiver, worker) and keep it running'),
  )
    .option('--no-worker', 'start no worker: run `datature-batch worker` yourself (e.g. to kill and restart it)')
    .option(
      '--codec',
      'encrypt payloads (key file <data-dir>/codec-keys.json, made if absent) and start a codec server the Web UI decodes through',
    )
    .option('--codec-port <port>', 'codec server port (with --codec)', parseIntFlag(0))
    .addHelpText(
      'after',
      examples(
        'datature-batch dev',
        'datature-batch dev --temporal-port 7233 --ui-port 8233',
        'datature-batch dev --codec   # payloads encrypted in Temporal; the Web UI decodes them through the codec server',
      ),
    )
    .action(async (flags: StackFlags, command: Command) => {
      const output = Output.of(command);
      assertNothingExternal(command.optsWithGlobals<GlobalOptions>());
      const stack = await startStackFrom(flags, (message) => output.info(message));
      const env = stackEnv(stack);
      const { DEV_DEPLOYMENT_ID } = require('../../emulator') as typeof import('../../emulator');
      output.result({ ...stack, env, deploymentId: DEV_DEPLOYMENT_ID, secretKey: undefined }, () =>
        [
          stack.reused ? `a stack is already running (pid ${stack.ownerPid}); use it:` : 'stack running:',
          `  Temporal Web UI   ${stack.uiUrl}`,
          `  Temporal          ${stack.temporalAddress} (namespace ${stack.namespace}, task queue ${stack.taskQueue})`,
          `  emulator          ${stack.emulatorUrl} (ready deployment ${DEV_DEPLOYMENT_ID})`,
          `  receiver          ${stack.receiverUrl} -> ${stack.predictionsFile}`,
          `  sample files      ${stack.fileServerUrl}`,
          ...(stack.metricsUrl ? [`  worker metrics    ${stack.metricsUrl}`] : []),
          ...(stack.nexus ? nexusLines(stack.nexus) : []),
          ...(stack.codecEndpoint
            ? [
                `  codec server      ${stack.codecEndpoint} (payloads encrypted with ${stack.codecKeysFile})`,
                `                    the Web UI decodes through it; elsewhere set the UI's codec endpoint to ${stack.codecEndpoint}`,
              ]
            : flags.codec && stack.reused
              ? ['  codec             off: the running stack was started without --codec']
              : []),
          'export these in another shell to use the other commands:',
          ...Object.entries(env).map(([name, value]) => `  export ${name}=${value}`),
          stack.reused ? '' : 'Ctrl-C stops everything.',
        ].join('\n'),
      );
      if (stack.reused) return;
      // The stack stops everything and exits on Ctrl-C / SIGTERM; until then its servers keep the process alive.
      await new Promise<never>(() => {});
    });
}

/** How a workflow in another namespace calls the worker through the Nexus endpoint (docs/nexus.md). */
function nexusLines(nexus: { endpoint: string; callerNamespace: string }): string[] {
  return [
    `  Nexus endpoint    ${nexus.endpoint} -> service datatureBatch; call it from workflows in namespace ${nexus.callerNamespace}:`,
    `    createNexusServiceClient({ service: datatureBatchService, endpoint: '${nexus.endpoint}' })`,
    "      .executeOperation('runBatchPrediction', { input }, { scheduleToCloseTimeout: '1 day' })",
    "    (datatureBatchService from 'datature-batch-worker/nexus'; docs/nexus.md)",
  ];
}

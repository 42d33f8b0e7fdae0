import { CommanderError } from 'commander';
import * as codec from './commands/codec';
import * as datasets from './commands/datasets';
import * as demo from './commands/demo';
import * as dev from './commands/dev';
import * as emulator from './commands/emulator';
import * as jobs from './commands/jobs';
import * as receiver from './commands/receiver';
import * as run from './commands/run';
import * as runs from './commands/runs';
import * as schedule from './commands/schedule';
import * as webhooks from './commands/webhooks';
import * as worker from './commands/worker';
import { ExitCode, exitCodeOf, RunFailedError } from './errors';
import { createRootProgram } from './program';
import { redactSecrets } from './secrets';

/** Every command group; each exports `register(program)`. Adding a group is one line here. */
const commandGroups = [demo, dev, worker, codec, emulator, receiver, run, runs, schedule, webhooks, datasets, jobs];

/** Runs the CLI and resolves with the process exit code (0 ok, 1 failed run, 2 usage/config error). */
export async function runCli(argv: string[]): Promise<number> {
  const program = createRootProgram();
  // Set before the groups register so every subcommand inherits it: usage errors become exit 2, not exit(1).
  program.exitOverride();
  for (const group of commandGroups) group.register(program);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help).
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    printError(err, verbose);
    // Scripts reading --json get the error as JSON on stdout too, with its type when the run said one.
    if (argv.includes('--json')) printJsonError(err);
    return exitCodeOf(err);
  }
}

function printJsonError(err: unknown): void {
  const message = redactSecrets(err instanceof Error ? err.message : String(err));
  const type = err instanceof RunFailedError ? err.type : undefined;
  process.stdout.write(`${JSON.stringify({ error: { message, type, exitCode: exitCodeOf(err) } })}\n`);
}

function printError(err: unknown, verbose: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  // One line: a multi-line message (e.g. NDJSON errors per line) keeps its first few lines, joined.
  const lines = message.split('\n').map((line) => line.trim());
  const oneLine = lines.slice(0, 4).join(' ') + (lines.length > 4 ? ' ...' : '');
  process.stderr.write(redactSecrets(`error: ${oneLine}`) + '\n');
  if (verbose && err instanceof Error && err.stack) process.stderr.write(redactSecrets(err.stack) + '\n');
}

import { Command } from 'commander';

/** The root command and the options every subcommand inherits (read them with `optsWithGlobals()`). */
export function createRootProgram(): Command {
  return new Command('datature-batch')
    .description('Durable Datature Nexus batch predictions on Temporal, with a local emulator of the batch API')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-v, --verbose', 'print details and stack traces of errors')
    .option('--api-url <url>', 'Datature API base URL (env DATATURE_API_BASE_URL)')
    .option('--project <id>', 'Datature project id, with or without proj_ (env DATATURE_PROJECT_ID)')
    .option('--secret-key-file <path>', 'file holding the project secret key (else env DATATURE_SECRET_KEY)')
    .option('--temporal-address <host:port>', 'Temporal frontend address (env TEMPORAL_ADDRESS)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE)')
    .option('--task-queue <name>', 'Temporal task queue of the worker (env TEMPORAL_TASK_QUEUE)')
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true });
}

/** Help text appended after a command's options. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

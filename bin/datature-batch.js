#!/usr/bin/env node
// Runs the TypeScript sources directly, so the CLI needs no build step.
require('tsx/cjs');
require('../src/cli/main.ts')
  .runCli(process.argv)
  .then((exitCode) => {
    // Exit now rather than when the last handle closes: SDK runtimes and keep-alive sockets can linger.
    process.exit(exitCode);
  });

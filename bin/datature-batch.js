#!/usr/bin/env node
// Runs the TypeScript sources directly, so the CLI needs no build step.
require('tsx/cjs');

// `datature-batch ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

require('./tsx-lexer-ready')
  .tsxLexerReady()
  .then(() => require('../src/cli/main.ts').runCli(process.argv))
  .then((exitCode) => {
    // Exit now rather than when the last handle closes: SDK runtimes and keep-alive sockets can linger.
    process.exit(exitCode);
  });

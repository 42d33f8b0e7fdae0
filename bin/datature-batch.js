#!/usr/bin/env node
const { existsSync } = require('node:fs');
const { join } = require('node:path');

// A checkout runs its TypeScript sources through tsx: no build step, and never a build older than the
// sources. An installed package ships only the build (`npm run build`, dist/), and runs that.
const sources = join(__dirname, '..', 'src', 'cli', 'main.ts');
const fromSources = existsSync(sources);
if (fromSources) require('tsx/cjs');

// `datature-batch ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// In a checkout, tsx's fast lexer first (bin/tsx-lexer-ready.js says why); the build needs no lexer.
(fromSources ? require('./tsx-lexer-ready').tsxLexerReady() : Promise.resolve())
  .then(() => require(fromSources ? sources : join(__dirname, '..', 'dist', 'cli', 'main.js')).runCli(process.argv))
  .then((exitCode) => {
    // Exit now rather than when the last handle closes: SDK runtimes and keep-alive sockets can linger.
    process.exit(exitCode);
  });

// Waits (a few ms) until tsx's WebAssembly ES-module lexer is ready, before the CLI loads its dependencies.
//
// tsx checks every .js file it loads for `import`/`export` syntax with es-module-lexer. It loads the lexer's
// WebAssembly build asynchronously and, until that is ready, uses a pure-JS build several times slower. The
// CLI then loads @temporalio/client, undici and zod synchronously, a few hundred files, all through the slow
// build: measured, loading @temporalio/client under tsx takes ~470 ms of CPU right after `require('tsx/cjs')`
// and ~310 ms (as without tsx) once the lexer is ready, which takes 3 to 25 ms.
//
// The lexer is a file of tsx's dist/ with a hashed name (tsx 4.x): when it is not found (another tsx), or
// its compilation takes longer than the cap, the CLI just goes on, on the slow path.
const { readdirSync } = require('node:fs');
const { dirname, join } = require('node:path');

const WAIT_CAP_MS = 100;

/** The lexer module of the installed tsx, or undefined (test/cli/tsx-lexer.test.ts notices a tsx without one). */
function tsxLexerPath() {
  try {
    const dist = join(dirname(require.resolve('tsx/cjs')), '..');
    const name = readdirSync(dist).find((file) => /^lexer-[\w-]+\.cjs$/.test(file));
    return name && join(dist, name);
  } catch {
    return undefined;
  }
}

function tsxLexerReady() {
  const path = tsxLexerPath();
  let init;
  try {
    init = path && require(path).init;
  } catch {
    // Not the module expected: the slow path.
  }
  if (!init) return Promise.resolve();
  let timer;
  const cap = new Promise((resolve) => {
    timer = setTimeout(resolve, WAIT_CAP_MS);
  });
  // Past `init`, one more turn: tsx's own continuation (which switches it to the WebAssembly build) runs first.
  return Promise.race([Promise.resolve(init).catch(() => {}), cap])
    .then(() => new Promise((resolve) => setImmediate(resolve)))
    .finally(() => clearTimeout(timer));
}

module.exports = { tsxLexerPath, tsxLexerReady };

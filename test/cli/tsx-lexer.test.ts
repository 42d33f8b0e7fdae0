// bin/datature-batch.js waits for tsx's WebAssembly lexer before loading the CLI (bin/tsx-lexer-ready.js says
// why: ~160 ms less CPU per command). The wait finds the lexer by its file name in tsx's dist/; a tsx upgrade
// that renames or drops it would silently bring the slow path back, so this notices.
const { tsxLexerPath, tsxLexerReady } = require('../../bin/tsx-lexer-ready') as {
  tsxLexerPath(): string | undefined;
  tsxLexerReady(): Promise<void>;
};

test("finds the installed tsx's lexer, whose WebAssembly build the wait is for", () => {
  const path = tsxLexerPath();
  expect(path).toMatch(/lexer-[\w-]+\.cjs$/);
  expect(typeof (require(path!) as { init?: Promise<void> }).init?.then).toBe('function');
});

test('the wait ends (within its 100 ms cap)', async () => {
  const started = Date.now();
  await tsxLexerReady();
  // Generous: the cap is 100 ms, a loaded machine adds to it; a wait that never ended would time the test out.
  expect(Date.now() - started).toBeLessThan(5_000);
});

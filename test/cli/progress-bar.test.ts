import { formatBytes, ProgressBoard } from '../../src/cli/progress-bar';

function recordingStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (text: string) => writes.push(text) > 0 }, writes };
}

describe('ProgressBoard', () => {
  test('on a TTY it redraws the whole block in place, one line per bar', () => {
    const { stream, writes } = recordingStream(true);
    const board = new ProgressBoard({ stream });
    board.set('gathered', 5, 60);
    board.render();
    board.set('gathered', 30, 60);
    board.set('predicted', 10, 60);
    board.render();
    expect(writes[0]).toBe('\r\x1b[2Kgathered   [##--------------------------]   8% 5/60\n');
    expect(writes[1]).toBe(
      '\x1b[1A' +
        '\r\x1b[2Kgathered   [##############--------------]  50% 30/60\n' +
        '\r\x1b[2Kpredicted  [#####-----------------------]  16% 10/60\n',
    );
    board.render(true);
    expect(writes[2].startsWith('\x1b[2A')).toBe(true);
  });

  test('without a TTY it prints only changed bars, at most once per interval, plus the final state', () => {
    const { stream, writes } = recordingStream(false);
    const board = new ProgressBoard({ stream, lineIntervalMs: 60_000 });
    board.set('upload', 1024, 4096, formatBytes);
    board.render();
    board.set('upload', 2048, 4096, formatBytes);
    board.render(); // within the interval: skipped
    board.set('upload', 4096, 4096, formatBytes);
    board.set('gathered', 7, undefined);
    board.render(true);
    board.render(true); // nothing changed: nothing printed
    expect(writes).toEqual([
      'upload     [#######---------------------]  25% 1.0 KiB/4.0 KiB\n',
      'upload     [############################] 100% 4.0 KiB/4.0 KiB\ngathered   7\n',
    ]);
  });
});

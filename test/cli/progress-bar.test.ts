import { formatBytes, ProgressBar } from '../../src/cli/progress-bar';

function recordingStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (text: string) => writes.push(text) > 0 }, writes };
}

describe('ProgressBar', () => {
  test('on a TTY it redraws one line in place and ends it on finish', () => {
    const { stream, writes } = recordingStream(true);
    const bar = new ProgressBar('predicted', { stream });
    bar.update(5, 60);
    bar.update(5, 60); // unchanged: not redrawn
    bar.update(30, 60);
    bar.finish(60, 60);
    expect(writes).toHaveLength(3);
    expect(writes.every((text) => text.startsWith('\r\x1b[2K'))).toBe(true);
    expect(writes[1]).toContain('[##############--------------]  50% 30/60');
    expect(writes[2]).toMatch(/100% 60\/60\n$/);
  });

  test('without a TTY it prints at most one plain line per interval, plus the final one', () => {
    const { stream, writes } = recordingStream(false);
    const bar = new ProgressBar('upload', { stream, lineIntervalMs: 60_000, formatValue: formatBytes });
    bar.update(1024, 4096);
    bar.update(2048, 4096);
    bar.update(3072, 4096);
    bar.finish(4096, 4096);
    bar.update(4096, 4096); // after finish: ignored
    expect(writes).toEqual([
      'upload     [#######---------------------]  25% 1.0 KiB/4.0 KiB\n',
      'upload     [############################] 100% 4.0 KiB/4.0 KiB\n',
    ]);
  });

  test('an unknown total shows the count alone', () => {
    const { stream, writes } = recordingStream(false);
    new ProgressBar('gathered', { stream }).finish(7, undefined);
    expect(writes).toEqual(['gathered   7\n']);
  });
});

// The progress line a person reads: bar, counts, per-stage detail, rate and ETA on
// a terminal; log lines printed above the bar instead of through it; plain lines
// (no escape codes) when stderr is not a terminal.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CliIO } from '../../../src/cli/io.ts';
import { barAware, createProgress, formatDuration } from '../../../src/cli/progress.ts';

function fakeIO(isTTY: boolean): CliIO & { err: string[] } {
  const err: string[] = [];
  return { stdout: () => undefined, stderr: (s) => err.push(s), isTTY, env: {}, cwd: '/', err };
}

afterEach(() => vi.useRealTimers());

describe('progress', () => {
  it('on a terminal shows counts, the extra detail, rate and ETA', () => {
    vi.useFakeTimers({ now: 0 });
    const io = fakeIO(true);
    const bar = createProgress(io, 'ingesting');
    bar.update(0, 100, 'extract 100');
    vi.setSystemTime(10_000);
    bar.update(20, 100, 'extract 30 · embed 50 · 2 failed');
    const line = io.err.at(-1)!;
    expect(line).toContain('20/100');
    expect(line).toContain('extract 30 · embed 50 · 2 failed');
    expect(line).toContain('2.0/s');
    expect(line).toContain('ETA 40s');
    bar.finish();
    expect(io.err.at(-1)).toBe('\n');
  });

  it('log lines written meanwhile go above the bar, which is drawn again', () => {
    const raw = fakeIO(true);
    const io = barAware(raw);
    const bar = createProgress(io, 'ingesting');
    bar.update(1, 4);
    io.stderr('warn: extract failed for document 7 (/docs/a.pdf)\n');
    const out = raw.err.at(-1)!;
    // Clear the bar's line, print the log line, redraw the bar below it.
    expect(out.startsWith('\r\u001b[K' + 'warn: extract failed')).toBe(true);
    expect(out).toMatch(/\n\S*ingesting \[.*\] 1\/4/);
    bar.finish();
    io.stderr('after\n');
    expect(raw.err.at(-1)).toBe('after\n');
  });

  it('without a terminal prints plain lines, no escape codes, at most every few seconds', () => {
    vi.useFakeTimers({ now: 0 });
    const io = fakeIO(false);
    const bar = createProgress(io, 'ingesting');
    bar.update(0, 10);
    bar.update(1, 10); // too soon: skipped
    vi.setSystemTime(3000);
    bar.update(5, 10, 'embed 5');
    bar.update(10, 10); // the last one always prints
    expect(io.err).toHaveLength(3);
    expect(io.err.join('')).not.toContain('\u001b');
    expect(io.err[1]).toMatch(/^ingesting: 5\/10 embed 5 · 1\.7\/s, ETA 3s\n$/);
  });

  it('formats durations for people', () => {
    expect([formatDuration(42), formatDuration(65), formatDuration(3 * 3600 + 120)]).toEqual([
      '42s',
      '1m05s',
      '3h02m',
    ]);
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
  });
});

// Progress output for long commands, always on stderr. On a terminal: one redrawn
// line with a bar, counts, rate and ETA; log lines written meanwhile through
// `barAware(io)` clear the bar, print above it and redraw it, so worker logs under
// `sluice run` never tear it. Otherwise (logs, CI): a plain line every few seconds.
import { escapeControls } from '../terminal-text.ts';
import type { CliIO } from './io.ts';

export interface Progress {
  /** `done` counts every finished item (failed ones included); `extra` is shown after the counts. */
  update(done: number, total: number, extra?: string): void;
  finish(): void;
}

const WIDTH = 24;
const PLAIN_EVERY_MS = 2000;
// The bar currently drawn on each terminal stream, so log lines can step around it.
const active = new WeakMap<CliIO['stderr'], { line: string }>();
// barAware wrapper → the stream it wraps: the bar draws itself through the raw stream.
const rawOf = new WeakMap<CliIO['stderr'], CliIO['stderr']>();

/** An io whose stderr writes keep a progress bar drawn on the same stream intact. */
export function barAware(io: CliIO): CliIO {
  const write = io.stderr;
  const controls = io.controls ?? write;
  const stderr = (s: string) => {
    const bar = active.get(stderr);
    if (!bar) return write(s);
    // One write, so nothing interleaves; the log line is escaped here as io.stderr would.
    controls(
      `\r\u001b[K${escapeControls(s, { keepNewlines: true })}${s.endsWith('\n') ? '' : '\n'}${bar.line}`,
    );
  };
  rawOf.set(stderr, write);
  return { ...io, stderr };
}

/** "1m05s" style; "?" while the rate is unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** "12.3/s, ETA 40s": rate since the first update that saw progress, and time left at that rate. */
function rateAndEta(done: number, total: number, startedAt: number, startDone: number, now: number): string {
  const seconds = (now - startedAt) / 1000;
  const rate = seconds > 0.5 ? (done - startDone) / seconds : 0;
  if (rate <= 0) return done >= total ? '' : 'ETA ?';
  const eta = done >= total ? '' : `, ETA ${formatDuration((total - done) / rate)}`;
  return `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)}/s${eta}`;
}

export function createProgress(io: CliIO, label: string, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update() {}, finish() {} };
  // The bar's cursor controls bypass the escaping of io.stderr; its text is ours, not the user's.
  const write = io.controls ?? rawOf.get(io.stderr) ?? io.stderr;
  let lastPlain = Number.NEGATIVE_INFINITY; // the first update always prints
  let startedAt: number | undefined;
  let startDone = 0;
  const bar = { line: '' };
  return {
    update(done, total, extra = '') {
      const now = Date.now();
      if (startedAt === undefined) {
        startedAt = now;
        startDone = done;
      }
      const timing = rateAndEta(done, total, startedAt, startDone, now);
      const tail = [extra, timing].filter(Boolean).join(' · ');
      if (io.isTTY) {
        const filled = total === 0 ? WIDTH : Math.round((Math.min(done, total) / total) * WIDTH);
        bar.line = `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total}${tail ? ` ${tail}` : ''}`;
        write(`\r${bar.line}\u001b[K`);
        active.set(io.stderr, bar);
      } else if (now - lastPlain >= PLAIN_EVERY_MS || done === total) {
        io.stderr(`${label}: ${done}/${total}${tail ? ` ${tail}` : ''}\n`);
        lastPlain = now;
      }
    },
    finish() {
      if (active.get(io.stderr) === bar) {
        active.delete(io.stderr);
        write('\n');
      }
    },
  };
}

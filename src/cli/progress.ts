// Progress output for long commands: a redrawn bar on a terminal, plain lines
// every few seconds otherwise (logs, CI). Always on stderr.
import type { CliIO } from './io.ts';

export interface Progress {
  update(done: number, total: number, extra?: string): void;
  finish(): void;
}

export function createProgress(io: CliIO, label: string, opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { update() {}, finish() {} };
  let last = 0;
  let drawn = false;
  return {
    update(done, total, extra = '') {
      const now = Date.now();
      if (io.isTTY) {
        const width = 30;
        const filled = total === 0 ? width : Math.round((done / total) * width);
        io.stderr(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${extra}\u001b[K`,
        );
        drawn = true;
      } else if (now - last >= 2000 || done === total) {
        io.stderr(`${label}: ${done}/${total} ${extra}\n`);
        last = now;
      }
    },
    finish() {
      if (drawn) io.stderr('\n');
    },
  };
}

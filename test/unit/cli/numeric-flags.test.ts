// Every numeric flag and argument goes through one parser: a word, a negative or an
// out-of-range number is a one-line usage error (exit 2) naming the flag, its range
// and what was typed, before anything is connected to or waited for.
import { describe, expect, it } from 'vitest';
import { runMain } from '../../../src/cli/main.ts';

async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    stdout: (s: string) => out.push(s),
    stderr: (s: string) => err.push(s),
    isTTY: false,
    // Nothing listens here: reaching a service would fail differently (or hang).
    env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:1' },
    cwd: '/',
  };
  const code = await runMain(argv, io);
  return { code, stderr: err.join(''), stdout: out.join('') };
}

const CASES: [string[], string, string][] = [
  [['ingest', '/etc/hostname', '--wait', '--timeout', 'abc'], '--timeout', 'abc'],
  [['ingest', '/etc/hostname', '--wait', '--timeout', '0'], '--timeout', '0'],
  [['ingest', '/etc/hostname', '--wait', '--timeout', '3000000'], '--timeout', '3000000'],
  [['retry', '--failed', '--wait', '--timeout', '1.5'], '--timeout', '1.5'],
  [['reindex', '--wait', '--timeout', 'soon'], '--timeout', 'soon'],
  [['reindex', '--budget', '-5'], '--budget', '-5'],
  [['reindex', '--dimensions', 'wide'], '--dimensions', 'wide'],
  [['status', '--failures', '-1'], '--failures', '-1'],
  [['status', '--failures', 'many'], '--failures', 'many'],
  [['search', 'lighthouse', '-k', 'abc'], '-k', 'abc'],
  [['search', 'lighthouse', '-k', '0'], '-k', '0'],
  [['compare', 'docs', '-k', '1e3'], '-k', '1e3'],
  [['compare', 'docs', '--samples', '0'], '--samples', '0'],
  [['switch', 'docs', '--generation', 'next'], '--generation', 'next'],
  [['retire', 'docs', 'two'], '<generation>', 'two'],
  [['run', '/etc/hostname', '--concurrency', 'lots'], '--concurrency', 'lots'],
  [['worker', '--concurrency', '0'], '--concurrency', '0'],
  [['worker', '--metrics-port', '99999'], '--metrics-port', '99999'],
  [['serve', '--port', 'http'], '--port', 'http'],
  [['dashboard', '--port', '-1'], '--port', '-1'],
  [['watch', '/tmp', '--concurrency', '-3'], '--concurrency', '-3'],
];

describe('numeric flags', () => {
  it.each(CASES)('%j: one line naming %s and the value, exit 2', async (argv, flag, value) => {
    const res = await run(argv);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      new RegExp(`^error: ${flag.replace(/[-<>]/g, '\\$&')} must be a whole number from \\d+ to \\d+`),
    );
    expect(res.stderr).toContain(`(got "${value}")`);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});

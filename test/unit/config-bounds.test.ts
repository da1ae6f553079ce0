// Every number in the configuration is bounded: durations fit Node's timers (2^31-1 ms;
// longer ones overflow and fire at once, turning an idle worker into a busy loop)
// and counts have a floor and a ceiling. Errors name the variable, the range and the value.
import { describe, expect, it } from 'vitest';
import { runMain } from '../../src/cli/main.ts';
import { ConfigError, ENV_KEYS, loadConfig } from '../../src/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, cwd: '/' });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

// The numeric settings are those that refuse a word with a range message.
const NUMERIC = Object.keys(ENV_KEYS).filter((name) =>
  problemsOf({ [name]: 'lots' }).some((p) => /must be (a whole number|a number) from/.test(p)),
);

describe('configuration bounds', () => {
  it('finds the numeric settings', () => {
    expect(NUMERIC).toEqual(expect.arrayContaining(['SLUICE_STALLED_INTERVAL_MS', 'SLUICE_CONCURRENCY']));
    expect(NUMERIC.length).toBeGreaterThan(20);
  });

  it.each(NUMERIC.filter((n) => n.endsWith('_MS')))('%s refuses a delay beyond 2^31-1 ms', (name) => {
    const [problem] = problemsOf({ [name]: '3000000000' });
    expect(problem).toMatch(
      new RegExp(`^${name} must be a whole number from \\d+ to 2147483647 \\(milliseconds\\)`),
    );
  });

  it.each(NUMERIC)('%s refuses a huge value and a negative one, naming both', (name) => {
    for (const value of ['9007199254740993', '-1']) {
      const problems = problemsOf({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name} must be (a whole number|a number) from \\S+ to \\S+`));
      expect(problems[0]).toContain(`got "${value}"`);
    }
  });

  it('polling intervals have floors: a worker cannot be told to poll Redis every millisecond', () => {
    for (const name of [
      'SLUICE_STALLED_INTERVAL_MS',
      'SLUICE_LOCK_DURATION_MS',
      'SLUICE_BACKOFF_MS',
      'SLUICE_S3_POLL_MS',
    ]) {
      expect(problemsOf({ [name]: '1' }), name).toHaveLength(1);
    }
  });

  it('the CLI prints the one line and exits 2 before connecting to anything', async () => {
    const err: string[] = [];
    const io = {
      stdout: () => undefined,
      stderr: (s: string) => err.push(s),
      isTTY: false,
      env: { SLUICE_STALLED_INTERVAL_MS: '3000000000', DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/x' },
      cwd: '/',
    };
    expect(await runMain(['status'], io)).toBe(2);
    expect(err.join('')).toContain(
      'SLUICE_STALLED_INTERVAL_MS must be a whole number from 1000 to 2147483647 (milliseconds), got "3000000000"',
    );
  });
});

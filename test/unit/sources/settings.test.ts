// Source settings as users write them: the guard as a share or a percentage,
// defaults, and one clear problem per bad value.
import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../../src/config.ts';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: '/' });

describe('source settings', () => {
  it('has safe defaults', () => {
    expect(load({})).toMatchObject({
      deleteGuard: 0.2,
      deleteGraceMs: 0,
      watchStableMs: 2000,
      watchPolling: false,
      s3PollMs: 60_000,
      inbox: 'sluice-inbox',
    });
  });

  it('takes the guard as a percentage or a share', () => {
    expect(load({ SLUICE_DELETE_GUARD: '35%' }).deleteGuard).toBeCloseTo(0.35);
    expect(load({ SLUICE_DELETE_GUARD: '0.5' }).deleteGuard).toBe(0.5);
    expect(load({ SLUICE_DELETE_GUARD: '0' }).deleteGuard).toBe(0);
  });

  it('names each bad value', () => {
    try {
      load({
        SLUICE_DELETE_GUARD: '150%',
        AWS_ENDPOINT_URL_S3: 'not a url',
        SLUICE_WATCH_POLLING: 'sometimes',
      });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('SLUICE_DELETE_GUARD');
      expect(problems).toContain('AWS_ENDPOINT_URL_S3');
      expect(problems).toContain('SLUICE_WATCH_POLLING');
    }
  });
});

// The one rule that places the queues: REDIS_URL set → Redis; unset → Postgres.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { queueBackendKind } from '../../../src/queue/backend.ts';
import { postgresQueueName } from '../../../src/queue/backend-postgres.ts';

describe('queue backend choice', () => {
  it('is Postgres when REDIS_URL is unset (no default Redis), Redis when it is set', () => {
    const bare = loadConfig({ env: {}, cwd: '/' });
    expect(bare.redisUrl).toBeUndefined();
    expect(queueBackendKind(bare)).toBe('postgres');
    const redis = loadConfig({ env: { REDIS_URL: 'redis://cache:6379' }, cwd: '/' });
    expect(queueBackendKind(redis)).toBe('redis');
  });

  it('refuses Redis settings without REDIS_URL instead of quietly queueing in Postgres', () => {
    expect(() => loadConfig({ env: { SLUICE_REDIS_CLUSTER: 'true' }, cwd: '/' })).toThrow(
      /SLUICE_REDIS_CLUSTER is set but REDIS_URL is not/,
    );
    expect(() => loadConfig({ env: { SLUICE_REDIS_CA_FILE: '/ca.pem' }, cwd: '/' })).toThrow(
      /SLUICE_REDIS_CA_FILE is set but REDIS_URL is not/,
    );
  });

  it('names each install’s Postgres queues by its prefix, so two installs in one database never share one', () => {
    expect(postgresQueueName('sluice', 'extract')).toBe('sluice.extract');
    expect(postgresQueueName('{team-a}', 'load')).toBe('{team-a}.load');
    expect(postgresQueueName('a', 'embed')).not.toBe(postgresQueueName('b', 'embed'));
  });
});

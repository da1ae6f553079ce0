// How REDIS_URL, SLUICE_REDIS_CLUSTER, SLUICE_REDIS_CA_FILE and the queue prefix
// become connection options: checked without a server (the e2e tests connect).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createRedisClient, nodeOptions } from '../../src/queue/connection.ts';

describe('queue prefix and Redis Cluster', () => {
  it('defaults the prefix to {sluice} on a cluster, and keeps "sluice" on one server', () => {
    const cluster = { REDIS_URL: 'redis://node-1:7000', SLUICE_REDIS_CLUSTER: '1' };
    expect(loadConfig({ env: cluster, cwd: '/' }).queuePrefix).toBe('{sluice}');
    expect(loadConfig({ env: {}, cwd: '/' }).queuePrefix).toBe('sluice');
  });

  it('accepts a prefix with one hash tag, and refuses a chosen prefix without one on a cluster', () => {
    const env = {
      REDIS_URL: 'redis://node-1:7000',
      SLUICE_REDIS_CLUSTER: 'yes',
      SLUICE_QUEUE_PREFIX: 'prod-{ingest}',
    };
    expect(loadConfig({ env, cwd: '/' }).queuePrefix).toBe('prod-{ingest}');
    expect(() => loadConfig({ env: { ...env, SLUICE_QUEUE_PREFIX: 'prod' }, cwd: '/' })).toThrow(
      /SLUICE_QUEUE_PREFIX: "prod" has no \{hash tag\}.*use "\{prod\}"/,
    );
    expect(() => loadConfig({ env: { SLUICE_QUEUE_PREFIX: 'a{b}{c}' }, cwd: '/' })).toThrow(
      /SLUICE_QUEUE_PREFIX/,
    );
  });

  it('refuses a REDIS_URL that is not redis:// or rediss://', () => {
    expect(() => loadConfig({ env: { REDIS_URL: 'http://cache:6379' }, cwd: '/' })).toThrow(
      /REDIS_URL: expected a redis:\/\/ or rediss:\/\/ \(TLS\) URL/,
    );
  });
});

describe('nodeOptions', () => {
  it('takes the ACL user, password and database from the URL, and TLS with the CA from rediss://', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-ca-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, 'PEM');
    const o = nodeOptions({
      redisUrl: 'rediss://app:p%40ss@cache.example:6380/2',
      redisCluster: false,
      redisCaFile: caFile,
    });
    expect(o).toMatchObject({ host: 'cache.example', port: 6380, username: 'app', password: 'p@ss', db: 2 });
    expect(String((o.tls as { ca: Buffer }).ca)).toBe('PEM');
    expect(nodeOptions({ redisUrl: 'redis://[::1]', redisCluster: false })).toEqual({
      host: '::1',
      port: 6379,
    });
    expect(nodeOptions({ redisUrl: 'redis://cache?family=6', redisCluster: false })).toMatchObject({
      family: 6,
    });
  });

  it('says what to do with an unreadable CA file or a CA file without TLS', () => {
    const missing = { redisUrl: 'rediss://cache', redisCluster: false, redisCaFile: '/nonexistent/ca.pem' };
    expect(() => nodeOptions(missing)).toThrow(
      /cannot read SLUICE_REDIS_CA_FILE \/nonexistent\/ca.pem: ENOENT/,
    );
    expect(() => nodeOptions({ ...missing, redisUrl: 'redis://cache' })).toThrow(/use rediss:\/\//);
    const numbered = { redisUrl: 'redis://cache:7000/3', redisCluster: true };
    expect(() => createRedisClient(numbered, 'producer')).toThrow(
      /only database 0; remove "\/3" from REDIS_URL/,
    );
  });
});

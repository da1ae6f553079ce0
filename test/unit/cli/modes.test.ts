import { describe, expect, it } from 'vitest';
import { modesLine, modesOf, redisSkipReason } from '../../../src/cli/modes.ts';

describe('modesOf: which database and queue a process uses, from its config', () => {
  it('a server database and Redis: hosts only, never credentials', () => {
    const m = modesOf({
      databaseUrl: 'postgresql://app:hunter2@db.example:6543/prod',
      redisUrl: 'rediss://user:s3cret@cache.example:6380',
    });
    expect(m).toEqual({
      database: { kind: 'server', where: 'db.example:6543' },
      queue: { kind: 'redis', where: 'cache.example:6380' },
    });
    expect(modesLine(m)).toBe('database: server (db.example:6543) · queue: redis (cache.example:6380)');
    expect(JSON.stringify(m)).not.toMatch(/hunter2|s3cret/);
  });

  it('a pglite: url is the embedded database at its data directory', () => {
    const m = modesOf({ databaseUrl: 'pglite:///home/ann/my%20docs/.sluice/pgdata', redisUrl: undefined });
    expect(m.database).toEqual({ kind: 'embedded', where: '/home/ann/my docs/.sluice/pgdata' });
  });

  it('no REDIS_URL: the queue is BullMQ on Postgres, in the same database', () => {
    const m = modesOf({ databaseUrl: 'pglite:///tmp/x/pgdata', redisUrl: undefined });
    expect(m.queue).toEqual({ kind: 'postgres', where: 'same database' });
    expect(modesLine(m)).toBe('database: embedded (/tmp/x/pgdata) · queue: postgres (same database)');
  });
});

describe('redisSkipReason: doctor checks Redis only when it is the queue', () => {
  it('is undefined with REDIS_URL set, and one line saying why without it', () => {
    expect(redisSkipReason(modesOf({ databaseUrl: 'postgresql://h/db', redisUrl: 'redis://r:6379' }))).toBe(
      undefined,
    );
    const why = redisSkipReason(modesOf({ databaseUrl: 'pglite:///tmp/x/pgdata', redisUrl: undefined }));
    expect(why).toBe(
      "REDIS_URL is unset: the queue is BullMQ's PostgreSQL backend in the same database, so there is no Redis to check",
    );
  });
});

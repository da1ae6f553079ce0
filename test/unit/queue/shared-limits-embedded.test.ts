// The Postgres rate limiter and sweep lease are plain SQL that also runs on the
// embedded database (PGlite, one session per process), reached here through
// node-postgres as sluice's pool reaches it. Only migration 0005 is applied: it
// needs nothing from the others.
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../../src/db/migrate.ts';
import type { Pool } from '../../../src/db/pool.ts';
import { createPostgresRateLimiter } from '../../../src/queue/rate-limit-postgres.ts';
import { tryPostgresLease } from '../../../src/queue/sweep-lock-postgres.ts';
import { until } from '../../helpers/until.ts';

let lite: PGlite;
let pool: Pool;

beforeAll(async () => {
  lite = await PGlite.create();
  pool = new pg.Pool({ ...createPgConfig(lite), max: 1 });
  const shared = (await loadMigrations()).find((m) => m.name === '0005_shared_limits.sql');
  await pool.query('CREATE SCHEMA sluice');
  await pool.query(shared!.sql);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await lite?.close();
});

describe('shared limits on the embedded database', () => {
  it('the rate limiter admits up to its budget, then waits for the window to free', async () => {
    const limiter = createPostgresRateLimiter(pool, { key: 'lite', requestsPerWindow: 2, windowMs: 300 });
    const first = await limiter.acquire({ requests: 1 });
    await first.settle();
    await limiter.acquire({ requests: 1 });
    await limiter.acquire({ requests: 1 });
    expect(limiter.stats().waits).toBeGreaterThanOrEqual(1);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM sluice.rate_admissions');
    expect(rows[0].n).toBeLessThanOrEqual(2);
    await limiter.penalise(60);
    const waited = await pool.query<{ wait: string }>(
      `SELECT sluice.rate_acquire('sluice:lite', 'probe', 400, 2, 0, 1, 0) AS wait`,
    );
    expect(Number(waited.rows[0]!.wait)).toBeGreaterThan(50_000);
  });

  it('the sweep lease has one holder, lapses, and is released only by its holder', async () => {
    const tries = await Promise.all(
      Array.from({ length: 5 }, () => tryPostgresLease(pool, 'lite-lock', 200)),
    );
    expect(tries.filter(Boolean)).toHaveLength(1);
    const lapsed = tries.find(Boolean)!;
    const taker = await until(
      'the lapsed lease to be taken',
      () => tryPostgresLease(pool, 'lite-lock', 60_000),
      {
        intervalMs: 50,
      },
    );
    await lapsed.release();
    expect(await lapsed.extend()).toBe(false);
    expect(await tryPostgresLease(pool, 'lite-lock', 60_000)).toBeUndefined();
    await taker.release();
    expect(await tryPostgresLease(pool, 'lite-lock', 60_000)).toBeDefined();
  });
});

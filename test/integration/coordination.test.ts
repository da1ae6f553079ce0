// The same rule as the queue picks where the shared budget and the sweep lease
// live: in Redis when there is a Redis client, else in the Postgres database.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createRateLimiterOn, tryLeaseOn } from '../../src/queue/coordination.ts';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase, uniquePrefix } from '../helpers/db.ts';

const prefix = uniquePrefix('coord');
let db: TestDatabase;
let pool: Pool;
let redis: Redis;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, { max: 2 });
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await pool?.end();
  await db?.drop();
});

const rowsIn = async (table: string) =>
  Number((await pool.query(`SELECT count(*) AS n FROM sluice.${table}`)).rows[0].n);

describe('shared state follows the queue backend', () => {
  it('with a Redis client, the budget and the lease are kept in Redis', async () => {
    const limiter = createRateLimiterOn({ redis, pool }, { prefix, key: 'redis-side', requestsPerWindow: 5 });
    await limiter.acquire({ requests: 1 });
    const lease = await tryLeaseOn({ redis, pool }, `${prefix}:redis-lock`, 60_000);
    expect(lease).toBeDefined();
    expect(await redis.exists(`${prefix}:redis-lock`)).toBe(1);
    expect((await redis.keys(`${prefix}:ratelimit:*`)).length).toBeGreaterThan(0);
    expect([await rowsIn('rate_admissions'), await rowsIn('leases')]).toEqual([0, 0]);
    await lease!.release();
  });

  it('without one, they are kept in Postgres and Redis is not touched', async () => {
    const before = (await redis.keys(`${prefix}*`)).length;
    const limiter = createRateLimiterOn({ pool }, { prefix, key: 'pg-side', requestsPerWindow: 5 });
    await limiter.acquire({ requests: 1 });
    const lease = await tryLeaseOn({ redis: undefined, pool }, `${prefix}:pg-lock`, 60_000);
    expect(lease).toBeDefined();
    expect([await rowsIn('rate_admissions'), await rowsIn('leases')]).toEqual([1, 1]);
    expect((await redis.keys(`${prefix}*`)).length).toBe(before);
    await lease!.release();
    expect(await rowsIn('leases')).toBe(0);
  });
});

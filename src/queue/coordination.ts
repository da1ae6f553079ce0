// Where the state every worker shares lives, by the same rule as the queue: with
// Redis (REDIS_URL set) in Redis, else in the Postgres database the queue runs on.
// The shared embedding budget and the reconciler's sweep lease are built here, so
// callers need not know which backend they run on.
import type { Pool } from '../db/pool.ts';
import type { RedisClient } from './connection.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';
import { createPostgresRateLimiter, type PostgresRateLimiterOptions } from './rate-limit-postgres.ts';
import { type Lease, tryLease } from './sweep-lock.ts';
import { tryPostgresLease } from './sweep-lock-postgres.ts';

/** What the queue runs on: a Redis client when it runs on Redis, and always the database (a Runtime fits). */
export interface CoordinationBackend {
  redis?: RedisClient | undefined;
  pool: Pool;
}

/** The shared provider budget on the queue's backend. */
export function createRateLimiterOn(
  backend: CoordinationBackend,
  opts: PostgresRateLimiterOptions,
): RateLimiter {
  return backend.redis
    ? createRateLimiter({ ...opts, redis: backend.redis })
    : createPostgresRateLimiter(backend.pool, opts);
}

/** Takes the lease `key` for ttlMs on the queue's backend, or undefined while another holder has it. */
export function tryLeaseOn(
  backend: CoordinationBackend,
  key: string,
  ttlMs: number,
): Promise<Lease | undefined> {
  return backend.redis ? tryLease(backend.redis, key, ttlMs) : tryPostgresLease(backend.pool, key, ttlMs);
}

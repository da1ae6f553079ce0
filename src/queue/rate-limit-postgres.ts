// The shared rate limiter kept in Postgres, for a queue that runs on Postgres
// (REDIS_URL unset): the same sliding log of admitted requests as the Redis one,
// in sluice.rate_admissions (src/loaders/rate-budgets.ts). One statement per
// acquisition checks and records under the budget's row lock, using the server's
// clock, so every connection of every process agrees and no lock or session
// state outlives the statement (safe through a transaction pooler, and plain SQL
// that runs on the embedded database too).
import type { Pool } from '../db/pool.ts';
import { admit, penaliseBudget, settleAdmission } from '../loaders/rate-budgets.ts';
import type { RateLimiter, RateLimiterOptions } from './rate-limit.ts';
import { limiterOnStore, logWindowMs, type RateLimitStore } from './rate-limit-store.ts';

/** The Redis limiter's options, without the Redis client. */
export type PostgresRateLimiterOptions = Omit<RateLimiterOptions, 'redis'>;

/**
 * Creates a Postgres-backed limiter on `pool` (not closed by the limiter); all
 * instances with the same prefix+key in one database share one budget.
 */
export function createPostgresRateLimiter(pool: Pool, opts: PostgresRateLimiterOptions): RateLimiter {
  const windowMs = opts.windowMs ?? 60_000;
  const key = `${opts.prefix ?? 'sluice'}:${opts.key}`;
  const budget = {
    key,
    windowMs: logWindowMs(windowMs, opts.marginMs),
    maxRequests: opts.requestsPerWindow ?? 0,
    maxTokens: opts.tokensPerWindow ?? 0,
  };
  const store: RateLimitStore = {
    tryAcquire: (id, requests, tokens) => admit(pool, { ...budget, id, requests, tokens }),
    settle: (id) => settleAdmission(pool, key, id),
    penalise: (ms) => penaliseBudget(pool, key, ms),
    async close() {},
  };
  return limiterOnStore(store, { ...opts, windowMs });
}

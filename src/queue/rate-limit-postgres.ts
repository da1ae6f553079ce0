// The shared rate limiter kept in Postgres, for a queue that runs on Postgres
// (REDIS_URL unset): the same sliding log of admitted requests as the Redis one,
// in sluice.rate_admissions. One statement per acquisition (sluice.rate_acquire,
// migration 0005) checks and records under the budget's row lock, using the
// server's clock, so every connection of every process agrees and no lock or
// session state outlives the statement (safe through a transaction pooler, and
// plain SQL that runs on the embedded database too).
import type { Pool } from '../db/pool.ts';
import type { RateLimiter, RateLimiterOptions } from './rate-limit.ts';
import { limiterOnStore, logWindowMs, type RateLimitStore } from './rate-limit-store.ts';

/** The Redis limiter's options, without the Redis client. */
export type PostgresRateLimiterOptions = Omit<RateLimiterOptions, 'redis'>;

const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/**
 * Creates a Postgres-backed limiter on `pool` (not closed by the limiter); all
 * instances with the same prefix+key in one database share one budget.
 */
export function createPostgresRateLimiter(pool: Pool, opts: PostgresRateLimiterOptions): RateLimiter {
  const windowMs = opts.windowMs ?? 60_000;
  const logWindow = logWindowMs(windowMs, opts.marginMs);
  const key = `${opts.prefix ?? 'sluice'}:${opts.key}`;
  const maxR = opts.requestsPerWindow ?? 0;
  const maxT = opts.tokensPerWindow ?? 0;
  const store: RateLimitStore = {
    async tryAcquire(id, r, t) {
      const { rows } = await pool.query<{ wait: string }>(
        'SELECT sluice.rate_acquire($1, $2, $3, $4, $5, $6, $7) AS wait',
        [key, id, logWindow, maxR, maxT, r, t],
      );
      return Number(rows[0]?.wait ?? logWindow);
    },
    async settle(id) {
      await pool.query(
        `UPDATE sluice.rate_admissions SET at_ms = greatest(at_ms, ${NOW_MS}) WHERE key = $1 AND id = $2`,
        [key, id],
      );
    },
    async penalise(ms) {
      await pool.query(
        `INSERT INTO sluice.rate_budgets AS b (key, penalty_until) VALUES ($1, ${NOW_MS} + $2)
         ON CONFLICT (key) DO UPDATE SET penalty_until = greatest(b.penalty_until, EXCLUDED.penalty_until)`,
        [key, ms],
      );
    },
    async close() {},
  };
  return limiterOnStore(store, { ...opts, windowMs });
}

// The shared embedding budget's log in Postgres (migration 0005): admissions per
// budget key in sluice.rate_admissions and a penalty deadline per key in
// sluice.rate_budgets, all on the server's clock so every machine agrees.
import type { Pool } from '../db/pool.ts';

const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export interface Admission {
  key: string;
  id: string;
  /** How long an entry counts (the window plus its margin). */
  windowMs: number;
  /** Per window; 0: unlimited. */
  maxRequests: number;
  maxTokens: number;
  requests: number;
  tokens: number;
}

/**
 * Records the admission and returns 0 when the budget has room, else the ms
 * until it could: one statement (sluice.rate_acquire) under the budget's row lock.
 */
export async function admit(pool: Pool, a: Admission): Promise<number> {
  const { rows } = await pool.query<{ wait: string }>(
    'SELECT sluice.rate_acquire($1, $2, $3, $4, $5, $6, $7) AS wait',
    [a.key, a.id, a.windowMs, a.maxRequests, a.maxTokens, a.requests, a.tokens],
  );
  return Number(rows[0]?.wait ?? a.windowMs);
}

/** Moves an admission's time to now (never back), if it is still in the log. */
export async function settleAdmission(pool: Pool, key: string, id: string): Promise<void> {
  await pool.query(
    `UPDATE sluice.rate_admissions SET at_ms = greatest(at_ms, ${NOW_MS}) WHERE key = $1 AND id = $2`,
    [key, id],
  );
}

/** Admits nobody on `key` for ms from now; a longer penalty already set stays. */
export async function penaliseBudget(pool: Pool, key: string, ms: number): Promise<void> {
  await pool.query(
    `INSERT INTO sluice.rate_budgets AS b (key, penalty_until) VALUES ($1, ${NOW_MS} + $2)
     ON CONFLICT (key) DO UPDATE SET penalty_until = greatest(b.penalty_until, EXCLUDED.penalty_until)`,
    [key, ms],
  );
}

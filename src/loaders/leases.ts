// Named leases in sluice.leases (migration 0005): one holder at a time across
// machines, known by a token, with an expiry on the server's clock so that a
// holder that dies stops counting once its lease runs out.
import type { Pool } from '../db/pool.ts';

const EXPIRY = `clock_timestamp() + $3::float8 * interval '1 millisecond'`;

/** Takes the lease for `token` unless another's has not expired yet (atomic: the row's lock decides). */
export async function takeLease(pool: Pool, name: string, token: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO sluice.leases AS l (name, token, expires_at) VALUES ($1, $2, ${EXPIRY})
     ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
     WHERE l.expires_at <= clock_timestamp()`,
    [name, token, ttlMs],
  );
  return rowCount === 1;
}

/**
 * Runs the lease another ttlMs from now, if `token` still holds it: still its
 * token means nobody took it since, even if it lapsed meanwhile.
 */
export async function extendLease(pool: Pool, name: string, token: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.leases SET expires_at = ${EXPIRY} WHERE name = $1 AND token = $2`,
    [name, token, ttlMs],
  );
  return rowCount === 1;
}

/** Gives the lease up, only if `token` still holds it. */
export async function dropLease(pool: Pool, name: string, token: string): Promise<void> {
  await pool.query('DELETE FROM sluice.leases WHERE name = $1 AND token = $2', [name, token]);
}

// The sweep lease kept in Postgres, for a queue that runs on Postgres (REDIS_URL
// unset): a row in sluice.leases with an owner token and an expiry on the
// server's clock. Not a session advisory lock: through a transaction pooler that
// would stay held by a stranger's connection, and on the embedded database (one
// session per process) two holders in one process would both get it. A holder
// that dies (even SIGKILL) stops extending, so its lease expires and another
// takes it; only the token's holder extends or releases it.
import { randomBytes } from 'node:crypto';
import type { Pool } from '../db/pool.ts';
import type { Lease } from './sweep-lock.ts';

const EXPIRY = `clock_timestamp() + $3::float8 * interval '1 millisecond'`;

/** Takes the lease `key` for ttlMs, or undefined while another holder's lease runs. */
export async function tryPostgresLease(pool: Pool, key: string, ttlMs: number): Promise<Lease | undefined> {
  const token = randomBytes(16).toString('hex');
  // Atomic: a lapsed lease is taken over under its row lock, a running one is left alone.
  const taken = await pool.query(
    `INSERT INTO sluice.leases AS l (name, token, expires_at) VALUES ($1, $2, ${EXPIRY})
     ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
     WHERE l.expires_at <= clock_timestamp()`,
    [key, token, ttlMs],
  );
  if (taken.rowCount !== 1) return undefined;
  return {
    async extend() {
      // Still our token means nobody took it since, even if it lapsed meanwhile.
      const r = await pool.query(
        `UPDATE sluice.leases SET expires_at = ${EXPIRY} WHERE name = $1 AND token = $2`,
        [key, token, ttlMs],
      );
      return r.rowCount === 1;
    },
    async release() {
      await pool.query('DELETE FROM sluice.leases WHERE name = $1 AND token = $2', [key, token]);
    },
  };
}

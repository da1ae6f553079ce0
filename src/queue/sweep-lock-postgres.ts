// The sweep lease kept in Postgres, for a queue that runs on Postgres (REDIS_URL
// unset): a row in sluice.leases with an owner token and an expiry on the
// server's clock (src/loaders/leases.ts). Not a session advisory lock: through a
// transaction pooler that would stay held by a stranger's connection, and on the
// embedded database (one session per process) two holders in one process would
// both get it. A holder that dies (even SIGKILL) stops extending, so its lease
// expires and another takes it; only the token's holder extends or releases it.
import { randomBytes } from 'node:crypto';
import type { Pool } from '../db/pool.ts';
import { dropLease, extendLease, takeLease } from '../loaders/leases.ts';
import type { Lease } from './sweep-lock.ts';

/** Takes the lease `key` for ttlMs, or undefined while another holder's lease runs. */
export async function tryPostgresLease(pool: Pool, key: string, ttlMs: number): Promise<Lease | undefined> {
  const token = randomBytes(16).toString('hex');
  if (!(await takeLease(pool, key, token, ttlMs))) return undefined;
  return {
    extend: () => extendLease(pool, key, token, ttlMs),
    release: () => dropLease(pool, key, token),
  };
}

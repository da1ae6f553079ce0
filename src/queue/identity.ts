// Binds a queue prefix to one database. Jobs carry document ids, which mean
// something only in the database that made them: a worker of another database
// on the same prefix would find no such document (the job ends "superseded", the
// document stalls) or another collection (DIMENSION_MISMATCH). So the first
// process on a prefix writes its database's identity under the prefix, and a
// process of another database refuses to start. The key is re-written when Redis
// lost it (a restart without persistence, a flush): at start, and by running
// workers every few seconds. Queues in Postgres (REDIS_URL unset) live in the
// database their document ids belong to, so they are bound by construction and
// nothing is claimed; the prefix only names them apart (backend-postgres.ts).
import { hostOf } from '../config.ts';
import type { Pool } from '../db/pool.ts';
import { SluiceError } from '../errors.ts';
import type { RedisClient } from './connection.ts';

/** What names a database across connection strings: the cluster's system identifier and the database name. */
export interface DatabaseIdentity {
  system: string;
  database: string;
  /** Where it was reached (host:port), for messages only: a proxy and a direct connection differ. */
  host: string;
}

/** The identity of the database the pool is connected to. */
export async function databaseIdentity(pool: Pool, databaseUrl: string): Promise<DatabaseIdentity> {
  const { rows } = await pool.query<{ system: string; database: string }>(
    'SELECT system_identifier::text AS system, current_database() AS database FROM pg_control_system()',
  );
  const row = rows[0];
  if (!row) throw new SluiceError('INTERNAL', 'pg_control_system() returned no row');
  return { system: row.system, database: row.database, host: hostOf(databaseUrl) };
}

/** The Redis key holding the identity of the database a prefix belongs to (in the prefix's slot). */
export function identityKey(prefix: string): string {
  return `${prefix}:database`;
}

function parseIdentity(value: string): DatabaseIdentity | undefined {
  try {
    const v = JSON.parse(value) as Partial<DatabaseIdentity>;
    if (typeof v.system === 'string' && typeof v.database === 'string') {
      return { system: v.system, database: v.database, host: String(v.host ?? '?') };
    }
  } catch {
    // not ours: reported below like any other owner
  }
  return undefined;
}

const describe = (d: DatabaseIdentity) => `"${d.database}" at ${d.host} (system ${d.system})`;

/**
 * Writes `own` under the prefix unless an identity is there already; CONFIG_ERROR
 * naming both databases when the prefix belongs to another one.
 */
export async function claimQueuePrefix(
  redis: RedisClient,
  prefix: string,
  own: DatabaseIdentity,
): Promise<void> {
  const key = identityKey(prefix);
  for (;;) {
    if ((await redis.set(key, JSON.stringify(own), 'NX')) === 'OK') return;
    const held = await redis.get(key);
    if (held === null) continue; // deleted between the two commands: claim again
    const owner = parseIdentity(held);
    if (owner && owner.system === own.system && owner.database === own.database) return;
    const theirs = owner ? `database ${describe(owner)}` : `an unrecognised owner (Redis key ${key})`;
    throw new SluiceError(
      'CONFIG_ERROR',
      `queue prefix "${prefix}" belongs to ${theirs}, but DATABASE_URL is database ${describe(own)}; ` +
        `give each database its own SLUICE_QUEUE_PREFIX (or, if the database moved, stop its old workers and delete the Redis key ${key})`,
    );
  }
}

/**
 * Re-claims the prefix every `intervalMs`, so an identity lost with Redis data is
 * written again before a process of another database can take the prefix.
 */
export function keepQueuePrefix(
  redis: RedisClient,
  prefix: string,
  own: DatabaseIdentity,
  opts: { intervalMs: number; onError(err: unknown): void },
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Chained, not setInterval: during a Redis outage a claim waits for the reconnect, and must not pile up.
  const tick = () => {
    claimQueuePrefix(redis, prefix, own)
      .catch(opts.onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, opts.intervalMs).unref();
      });
  };
  timer = setTimeout(tick, opts.intervalMs).unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

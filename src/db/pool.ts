// Postgres connections. Every pg client gets pgvector's types registered, and
// connection errors become one clear CONNECTION_ERROR naming the host.
import pg from 'pg';
import pgvector from 'pgvector';
import { hostOf } from '../config.ts';
import { SluiceError } from '../errors.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  /** application_name shown in pg_stat_activity (helps operators and tests). */
  applicationName?: string;
}

/** Creates a pool; vector types are registered lazily on each new connection. */
export function createPool(databaseUrl: string, opts: PoolOptions = {}): Pool {
  // Per-pool type parsers: extension type OIDs differ between databases, so
  // pgvector's parsers are registered here once the OIDs are known, not globally.
  const types = new pg.TypeOverrides();
  let registered = false;
  const pool = new pg.Pool({
    types,
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'sluice',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('connect', (client) => {
    // A backend terminated while its client is checked out but between queries
    // emits 'error' on the client; unhandled, that would crash the process. The
    // failure surfaces instead through the next query, and the client is discarded.
    client.on('error', () => undefined);
    if (registered) return;
    registered = true;
    // The vector extension may not exist yet (before `sluice migrate`): retried on the next connection.
    pool
      .query<{ typname: string; oid: number }>(
        "SELECT typname, oid FROM pg_type WHERE typname IN ('vector', 'halfvec', 'sparsevec')",
      )
      .then(({ rows }) => {
        if (rows.length === 0) registered = false;
        for (const r of rows) types.setTypeParser(r.oid, 'text', (v: string) => pgvector.fromSql(v));
      })
      .catch(() => {
        registered = false;
      });
  });
  // A terminated backend emits 'error' on idle clients; the pool replaces them.
  pool.on('error', () => undefined);
  return pool;
}

/** Wraps a connection failure in a message that says what to check. */
export function connectionError(err: unknown, databaseUrl: string): SluiceError {
  const detail = (err as Error)?.message ?? String(err);
  return new SluiceError(
    'CONNECTION_ERROR',
    `cannot reach Postgres at ${hostOf(databaseUrl)}: ${detail}. Check DATABASE_URL and that the server is running.`,
    { cause: err },
  );
}

/** Runs fn inside a transaction on one client; rolls back on error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A client whose transaction failed may have lost its connection: never reuse it.
    client.release(failed);
  }
}

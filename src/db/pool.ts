// Postgres connections. Every pg client gets pgvector's types registered, a
// server that refuses new connections for now (full, starting up) is waited
// for, and connection errors become one clear CONNECTION_ERROR naming the host.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pgvector from 'pgvector';
import { hostOf } from '../config.ts';
import { SluiceError } from '../errors.ts';
import { createEmbeddedPool } from './embedded/pool.ts';
import { isEmbeddedUrl } from './embedded/url.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  max?: number;
  /** application_name shown in pg_stat_activity (helps operators and tests). */
  applicationName?: string;
  /**
   * search_path of every connection, set at connection start (e.g. BullMQ's
   * PostgreSQL backend, whose SQL names its tables unqualified).
   */
  searchPath?: string;
  /**
   * How long a new connection refused by a server that is full ("too many
   * clients", 53300) or starting up (57P03) is retried, with backoff, before the
   * refusal is thrown (default 30 s; 0: not retried). The caller just waits.
   */
  refusedWaitMs?: number;
  /** Called on each refusal that is being waited out (to log it). */
  onRefused?: (err: Error) => void;
}

/** SQLSTATEs (and a pooler's message) of a server that is there but takes no new connection now. */
const REFUSAL_CODES = new Set(['53300', '57P03']);
const REFUSAL_MESSAGE = /no more connections allowed/; // PgBouncer's max_client_conn

function isRefusal(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    (typeof e?.code === 'string' && REFUSAL_CODES.has(e.code)) ||
    (typeof e?.message === 'string' && REFUSAL_MESSAGE.test(e.message))
  );
}

/** The URL of work that needs one session throughout (migrations, index builds). */
export function sessionDatabaseUrl(config: {
  databaseUrl: string;
  directDatabaseUrl?: string | undefined;
}): string {
  return config.directDatabaseUrl ?? config.databaseUrl;
}

/**
 * Creates a pool; vector types are registered lazily on each new connection. A
 * pglite:// URL gives a pool on the embedded database (db/embedded/), opened on
 * its first connection.
 */
export function createPool(databaseUrl: string, opts: PoolOptions = {}): Pool {
  // Per-pool type parsers: extension type OIDs differ between databases, so
  // pgvector's parsers are registered here once the OIDs are known, not globally.
  const types = new pg.TypeOverrides();
  let registered = false;
  const config: pg.PoolConfig = {
    types,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'sluice',
    ...(opts.searchPath ? { options: `-c search_path=${opts.searchPath}` } : {}),
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  };
  const pool = isEmbeddedUrl(databaseUrl)
    ? createEmbeddedPool(databaseUrl, config)
    : new pg.Pool({ ...config, connectionString: databaseUrl });
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
  waitOutRefusals(pool, opts.refusedWaitMs ?? 30_000, opts.onRefused);
  return pool;
}

/**
 * Makes pool.connect (and so pool.query) retry a refused new connection until
 * waitMs has passed: a full server frees slots as other clients finish, so the
 * work waits for one instead of failing.
 */
function waitOutRefusals(pool: Pool, waitMs: number, onRefused?: (err: Error) => void): void {
  if (waitMs <= 0) return;
  const connectOnce = pool.connect.bind(pool) as () => Promise<PoolClient>;
  const connect = async (): Promise<PoolClient> => {
    const deadline = Date.now() + waitMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await connectOnce();
      } catch (err) {
        if (!isRefusal(err) || Date.now() + delay > deadline || pool.ending) throw err;
        onRefused?.(err as Error);
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  };
  type Callback = (
    err: Error | undefined,
    client: PoolClient | undefined,
    done: (release?: unknown) => void,
  ) => void;
  // pg-pool's query() calls this.connect(callback): both forms must wait.
  pool.connect = ((cb?: Callback) => {
    if (!cb) return connect();
    connect().then(
      (client) => cb(undefined, client, (release) => client.release(release as boolean | Error | undefined)),
      (err: Error) => cb(err, undefined, () => undefined),
    );
  }) as Pool['connect'];
}

/** Wraps a connection failure in a message that says what to check. */
export function connectionError(err: unknown, databaseUrl: string): SluiceError {
  const detail = (err as Error)?.message ?? String(err);
  const advice = isRefusal(err)
    ? 'It has no connection to spare: raise its max_connections, or lower workers × SLUICE_PG_POOL_MAX.'
    : 'Check DATABASE_URL and that the server is running.';
  return new SluiceError(
    'CONNECTION_ERROR',
    `cannot reach Postgres at ${hostOf(databaseUrl)}: ${detail}. ${advice}`,
    {
      cause: err,
    },
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

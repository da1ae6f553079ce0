// A real pg.Pool whose clients talk to the embedded database instead of a
// socket: pool semantics (connect/release, query, end, events) are node-postgres'
// own, so callers and BullMQ's PostgreSQL backend use it like any server's pool.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { attach } from './registry.ts';
import { embeddedDataDir } from './url.ts';

/** Stands in for a connection until connect() builds the embedded one (nothing is open before). */
function placeholderConnection() {
  return Object.assign(new EventEmitter(), { _connecting: false, stream: { destroy() {} } });
}

const embeddedPools = new WeakSet<pg.Pool>();

/** Whether a pool is on the embedded database (a single session: no concurrent DDL, no pg_stat_activity of others). */
export function isEmbeddedPool(pool: pg.Pool): boolean {
  return embeddedPools.has(pool);
}

type ConnectCallback = (err: Error | null, client?: pg.Client) => void;

/** A pg.Pool on the embedded database named by `url` (pglite://...). */
export function createEmbeddedPool(url: string, config: pg.PoolConfig): pg.Pool {
  const handle = attach(embeddedDataDir(url));
  class EmbeddedClient extends pg.Client {
    constructor(options?: pg.ClientConfig) {
      super({ ...options, connection: placeholderConnection() } as unknown as pg.ClientConfig);
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | undefined {
      const connected = handle.database().then((db) => {
        (this as unknown as { connection: unknown }).connection = db.connection();
        return super.connect();
      });
      if (!callback) return connected;
      connected.then(
        (client) => callback(null, client),
        (err: Error) => callback(err),
      );
      return undefined;
    }
  }
  // Opening is local (no network to time out); idle clients cost nothing but are still recycled.
  const pool = new pg.Pool({ ...config, Client: EmbeddedClient, connectionTimeoutMillis: 0 });
  embeddedPools.add(pool);
  const end = pool.end.bind(pool);
  pool.end = (async () => {
    try {
      await end();
    } finally {
      await handle.detach();
    }
  }) as pg.Pool['end'];
  return pool;
}

// A private Postgres cluster (pg_createcluster) for tests that stop and start the
// server itself (the shared one on 5432 must never be stopped). It has trust auth
// on loopback, pgvector available, and one database migrated for sluice.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { until } from './until.ts';

const run = promisify(execFile);
const VERSION = '15';

export interface TestPostgres {
  port: number;
  /** The migrated sluice database on this cluster. */
  url: string;
  /** Stops the server (fast shutdown: sessions are cut, as in an outage). */
  stop(): Promise<void>;
  /** Starts it again and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and removes the cluster. */
  close(): Promise<void>;
}

/** Creates, starts and migrates a cluster on `port` (a free one the caller picked). */
export async function startTestPostgres(port: number): Promise<TestPostgres> {
  const name = `sluice_t_${process.pid}_${randomBytes(3).toString('hex')}`;
  await run('pg_createcluster', [VERSION, name, '--port', String(port), '--', '--auth=trust', '--no-sync']);
  const base = `postgresql://postgres@127.0.0.1:${port}`;
  const start = async () => {
    await run('pg_ctlcluster', [VERSION, name, 'start']);
    await until(`Postgres on ${port} to answer`, async () => {
      const c = new pg.Client({ connectionString: `${base}/postgres` });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    });
  };
  try {
    await start();
    const admin = new pg.Client({ connectionString: `${base}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE sluice');
    await admin.end();
    const pool = createPool(`${base}/sluice`, { max: 1 });
    await migrate(pool);
    await pool.end();
  } catch (err) {
    await run('pg_dropcluster', [VERSION, name, '--stop']).catch(() => undefined);
    throw err;
  }
  return {
    port,
    url: `${base}/sluice`,
    async stop() {
      await run('pg_ctlcluster', [VERSION, name, 'stop', '-m', 'fast']);
    },
    start,
    async close() {
      await run('pg_dropcluster', [VERSION, name, '--stop']).catch(() => undefined);
    },
  };
}

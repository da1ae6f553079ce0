// A private Postgres 15 cluster (pg_createcluster) for tests that must exhaust,
// stop or restart the server; the shared one on 5432 is never touched. Trust auth
// on loopback; pgvector is installed system-wide, so CREATE EXTENSION works.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { freePort } from './redis-server.ts';
import { until } from './until.ts';

export interface TestPgCluster {
  name: string;
  port: number;
  url(database?: string): string;
  /** The server's log (refused connections are logged there). */
  log(): string;
  /** Stops the server (fast shutdown: sessions are cut, as in an outage). */
  stop(): Promise<void>;
  /** Starts it again and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and removes the cluster. */
  close(): Promise<void>;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** Whether a Postgres (or a pooler in front of one) at url accepts a connection and a query now. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function startPgCluster(
  opts: { maxConnections?: number; port?: number } = {},
): Promise<TestPgCluster> {
  const name = `sluice_t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const port = opts.port ?? (await freePort());
  const logPath = `/var/log/postgresql/postgresql-15-${name}.log`;
  const url = (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const close = async () => {
    try {
      run('pg_dropcluster', ['--stop', '15', name]);
    } catch {
      // never created, or already gone
    }
    rmSync(logPath, { force: true });
  };
  const start = async () => {
    run('pg_ctlcluster', ['15', name, 'start']);
    await until(`Postgres on ${port} to answer`, () => postgresAnswers(url()));
  };
  try {
    const settings =
      opts.maxConnections === undefined ? [] : ['-o', `max_connections=${opts.maxConnections}`];
    run('pg_createcluster', [
      '15',
      name,
      '--port',
      String(port),
      ...settings,
      '--',
      '--auth-host=trust',
      '--auth-local=trust',
      '--no-sync',
    ]);
    await start();
  } catch (err) {
    await close();
    throw err;
  }
  return {
    name,
    port,
    url,
    log: () => readFileSync(logPath, 'utf8'),
    async stop() {
      run('pg_ctlcluster', ['15', name, 'stop', '-m', 'fast']);
    },
    start,
    close,
  };
}

export interface TestPostgres {
  port: number;
  /** The migrated sluice database on this cluster. */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A private cluster on `port` (a free one the caller picked) with one database migrated for sluice. */
export async function startTestPostgres(port: number): Promise<TestPostgres> {
  const cluster = await startPgCluster({ port });
  try {
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE sluice');
    await admin.end();
    const pool = createPool(cluster.url('sluice'), { max: 1 });
    await migrate(pool);
    await pool.end();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return { port, url: cluster.url('sluice'), stop: cluster.stop, start: cluster.start, close: cluster.close };
}

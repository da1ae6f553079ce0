// A private Postgres 15 cluster (pg_createcluster) for tests that must exhaust
// or restart the server; the shared one on 5432 is never touched. Trust auth on
// loopback; pgvector is installed system-wide, so CREATE EXTENSION works.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { freePort } from './redis-server.ts';

export interface TestPgCluster {
  name: string;
  port: number;
  url(database?: string): string;
  /** The server's log (refused connections are logged there). */
  log(): string;
  close(): Promise<void>;
}

export async function startPgCluster(opts: { maxConnections: number }): Promise<TestPgCluster> {
  const name = `sluice_t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const logPath = `/var/log/postgresql/postgresql-15-${name}.log`;
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const close = async () => {
    try {
      run('pg_dropcluster', ['--stop', '15', name]);
    } catch {
      // never created, or already gone
    }
    rmSync(logPath, { force: true });
  };
  try {
    run('pg_createcluster', [
      '15',
      name,
      '--port',
      String(port),
      '-o',
      `max_connections=${opts.maxConnections}`,
      '--',
      '--auth-host=trust',
      '--auth-local=trust',
    ]);
    run('pg_ctlcluster', ['15', name, 'start']);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    name,
    port,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    log: () => readFileSync(logPath, 'utf8'),
    close,
  };
}

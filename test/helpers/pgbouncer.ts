// A private PgBouncer in transaction mode in front of the test Postgres, as
// Neon's and Supabase's pooled URLs are: every transaction may land on another
// server connection, so nothing session-scoped survives from one to the next.
// server_round_robin makes that happen on every transaction, not only under load.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_URL } from './db.ts';
import { postgresAnswers } from './pg-cluster.ts';
import { freePort } from './redis-server.ts';
import { until } from './until.ts';

export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

export interface TestPgBouncer {
  port: number;
  /** The pooled URL of a database of the test Postgres. */
  url(database: string): string;
  close(): Promise<void>;
}

export async function startPgBouncer(opts: { poolSize?: number } = {}): Promise<TestPgBouncer> {
  const upstream = new URL(ADMIN_URL);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pgbouncer-'));
  chmodSync(dir, 0o755); // pgbouncer drops to the postgres user when started as root
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize ?? 8}`,
      'min_pool_size = 3',
      'server_round_robin = 1',
      'max_client_conn = 500',
      'ignore_startup_parameters = extra_float_digits,options',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  const args = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  const child: ChildProcess = spawn(PGBOUNCER_BIN, [...args, join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true, // its own process group, killed as a whole in close()
  });
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      `pgbouncer on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}): ${log}`);
        return postgresAnswers(url('postgres'));
      },
      { timeoutMs: 15_000 },
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { port, url, close };
}

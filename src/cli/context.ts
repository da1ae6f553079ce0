// Shared command setup: open the database (proving it answers, with a clear
// error naming the host) and the runtime, and always close them.
import type { Config } from '../config.ts';
import { connectionError, type Pool } from '../db/pool.ts';
import type { Logger } from '../log.ts';
import { createRuntime, type Runtime } from '../queue/runtime.ts';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
]);

/** Proves Postgres answers; connection failures become one line naming the host. */
export async function checkDatabase(pool: Pool, config: Config): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (CONNECT_CODES.has(code) || /timeout|connect/i.test((err as Error).message)) {
      throw connectionError(err, config.databaseUrl);
    }
    throw err;
  }
}

export async function withDatabase<T>(
  config: Config,
  pool: Pool,
  fn: (pool: Pool) => Promise<T>,
): Promise<T> {
  try {
    await checkDatabase(pool, config);
    return await fn(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export async function withRuntime<T>(
  config: Config,
  log: Logger,
  kind: 'producer' | 'worker',
  fn: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const rt = await createRuntime(config, { log, kind });
  try {
    await checkDatabase(rt.pool, config);
    return await fn(rt);
  } finally {
    await rt.close().catch(() => undefined);
  }
}

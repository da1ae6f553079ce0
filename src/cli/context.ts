// Shared command setup: open the database (proving it answers, with a clear
// error naming the host) and the runtime, and always close them.
import { resolve } from 'node:path';
import type { Config } from '../config.ts';
import { connectionError, createPool, type Pool } from '../db/pool.ts';
import { isConnectionError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createRuntime, type Runtime } from '../queue/runtime.ts';

/** Proves Postgres answers; connection failures become one line naming the host. */
export async function checkDatabase(pool: Pool, config: Config): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    if (isConnectionError(err) || /timeout|connect/i.test((err as Error).message)) {
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

/** A small pool for commands that only read or write Postgres: they need no Redis. */
export function withPool<T>(config: Config, fn: (pool: Pool) => Promise<T>): Promise<T> {
  return withDatabase(config, createPool(config.databaseUrl, { max: 2 }), fn);
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

/** Document refs as `ingest` stores them: numeric ids stay, paths become absolute (from the cwd). */
export function resolveRefs(refs: readonly string[], cwd: string): string[] {
  return refs.map((r) => (/^\d+$/.test(r) ? r : resolve(cwd, r)));
}

/** The refs (as the user typed them) that matched no document. */
export function refsNotFound(
  typed: readonly string[],
  resolved: readonly string[],
  docs: ReadonlyArray<{ id: number; uri: string }>,
): string[] {
  const ids = new Set(docs.map((d) => String(d.id)));
  const uris = new Set(docs.map((d) => d.uri));
  return typed.filter((_, i) => !ids.has(resolved[i]!) && !uris.has(resolved[i]!));
}

// Shared command setup: open the database (proving it answers, with a clear
// error naming the host) and the runtime, and always close them. The Postgres and
// queue clients are imported when a command runs, not when it is registered, so
// `sluice --help` loads none of them.
import { resolve } from 'node:path';
import { type Config, hostOf } from '../config.ts';
import { isEmbeddedUrl } from '../db/embedded/url.ts';
import type { Pool } from '../db/pool.ts';
import { isConnectionError, isErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Runtime } from '../queue/runtime.ts';
import { EXIT, ExitError } from './io.ts';

/** Proves Postgres answers; connection failures become one line naming the host. */
export async function checkDatabase(pool: Pool, config: Config): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // The embedded database's own refusals (locked, newer, corrupt) say what to do already.
    if (isErrorCode(code) && code !== 'CONNECTION_ERROR') throw err;
    if (isConnectionError(err) || /timeout|connect/i.test((err as Error).message)) {
      const { connectionError } = await import('../db/pool.ts');
      throw connectionError(err, config.databaseUrl);
    }
    throw err;
  }
}

/**
 * Proves the sluice schema is there and current: a database never migrated, or
 * migrated by an older sluice, is one line saying to run `sluice migrate` (exit 2)
 * instead of a SQL error, or a worker retrying a missing table forever.
 */
export async function requireSchema(pool: Pool, config: Config): Promise<void> {
  const { loadMigrations, migrate, pendingMigrations } = await import('../db/migrate.ts');
  const { queueBackendKind } = await import('../queue/backend.ts');
  const pending = await pendingMigrations(pool, { queueSchema: queueBackendKind(config) === 'postgres' });
  if (pending.length === 0) return;
  // The embedded database is this sluice's own: it is brought up to date, no separate step.
  if (isEmbeddedUrl(config.databaseUrl)) {
    await migrate(pool);
    return;
  }
  const where = `the database ${databaseName(config.databaseUrl)} at ${hostOf(config.databaseUrl)}`;
  const state = (await loadMigrations()).every((m) => pending.includes(m.name))
    ? 'has no sluice schema'
    : `is missing ${pending.length} sluice migration(s) (${pending.join(', ')})`;
  throw new ExitError(EXIT.usage, `error: ${where} ${state}: run \`sluice migrate\` first`);
}

function databaseName(url: string): string {
  try {
    return `"${decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres'}"`;
  } catch {
    return '(unparseable URL)';
  }
}

/** Runs fn with a database that answers and (unless `schema: false`, for `migrate`) is migrated. */
export async function withDatabase<T>(
  config: Config,
  pool: Pool,
  fn: (pool: Pool) => Promise<T>,
  opts: { schema?: boolean } = {},
): Promise<T> {
  try {
    await checkDatabase(pool, config);
    if (opts.schema !== false) await requireSchema(pool, config);
    return await fn(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** A small pool for commands that only read or write Postgres: they need no Redis. */
export async function withPool<T>(config: Config, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const { createPool } = await import('../db/pool.ts');
  return withDatabase(config, createPool(config.databaseUrl, { max: 2 }), fn);
}

export async function withRuntime<T>(
  config: Config,
  log: Logger,
  kind: 'producer' | 'worker',
  fn: (rt: Runtime) => Promise<T>,
  /**
   * `migrate`: bring the schema up to date first; the default on the embedded
   * database, which is sluice's own (no separate `sluice migrate` step).
   */
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const { createRuntime } = await import('../queue/runtime.ts');
  // Migrated before the runtime opens: its queue backend may need the queue tables. The
  // pool stays open until the runtime's are, so an embedded database is opened once.
  const setup = (opts.migrate ?? isEmbeddedUrl(config.databaseUrl)) ? await migratedPool(config) : undefined;
  const rt = await createRuntime(config, { log, kind }).finally(() => setup?.end().catch(() => undefined));
  try {
    await checkDatabase(rt.pool, config);
    await requireSchema(rt.pool, config);
    return await fn(rt);
  } finally {
    await rt.close().catch(() => undefined);
  }
}

/** A one-connection pool on the database, its schema (and queue tables) brought up to date. */
async function migratedPool(config: Config): Promise<Pool> {
  const { createPool, sessionDatabaseUrl } = await import('../db/pool.ts');
  const url = sessionDatabaseUrl(config);
  const pool = createPool(url, { max: 1 });
  try {
    await checkDatabase(pool, { ...config, databaseUrl: url });
    await (await import('../db/migrate.ts')).migrate(pool);
    return pool;
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
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

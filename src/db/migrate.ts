// Migration runner: numbered, append-only SQL files applied in order, each in
// its own transaction that takes a transaction-level advisory lock, checks the
// ledger and records itself there, so several workers starting at once clash
// cleanly (one applies, others wait, then find it applied). Nothing outlives a
// transaction, so it is as safe through a transaction pooler (PgBouncer
// pool_mode=transaction) as on a direct connection: no lock can be left behind.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Pool, type PoolClient, withTransaction } from './pool.ts';

const LOCK_KEY = 7_331_001; // arbitrary, constant: sluice's migration lock
const FILE_RE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  name: string;
  status: 'applied' | 'already-applied';
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * Reads migrations from a folder, sorted by number; rejects duplicates. A gap is
 * allowed: numbers are reserved per feature branch, so one may land before another.
 */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => FILE_RE.test(n)).sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const id = Number(name.slice(0, 4));
    const prev = migrations.at(-1);
    if (prev && prev.id === id) throw new Error(`migrations ${prev.name} and ${name} share a number`);
    const sql = await readFile(new URL(name, `file://${dir}/`), 'utf8');
    migrations.push({ id, name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

/** Applies pending migrations; returns a per-migration status report. */
export async function migrate(pool: Pool, migrations?: Migration[]): Promise<MigrationResult[]> {
  const list = migrations ?? (await loadMigrations());
  await underLock(pool, async (client) => {
    await client.query('CREATE SCHEMA IF NOT EXISTS sluice');
    await client.query(`CREATE TABLE IF NOT EXISTS sluice.migrations (
      id int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const results: MigrationResult[] = [];
  for (const m of list) {
    const status = await underLock(pool, async (client) => {
      const { rows } = await client.query<{ checksum: string }>(
        'SELECT checksum FROM sluice.migrations WHERE id = $1',
        [m.id],
      );
      const prior = rows[0];
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(
            `migration ${m.name} was changed after it was applied; add a new migration instead`,
          );
        }
        return 'already-applied' as const;
      }
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await client.query('INSERT INTO sluice.migrations (id, name, checksum) VALUES ($1, $2, $3)', [
        m.id,
        m.name,
        m.checksum,
      ]);
      return 'applied' as const;
    });
    results.push({ name: m.name, status });
  }
  results.push(await migrateQueueSchema(pool));
  return results;
}

/** The ledger name of BullMQ's queue schema at the version this build carries. */
async function queueSchemaName(): Promise<{ name: string; version: number }> {
  const { LATEST_SCHEMA_VERSION } = await import('bullmq');
  return { name: `bullmq-queue-schema-v${LATEST_SCHEMA_VERSION}`, version: LATEST_SCHEMA_VERSION };
}

/** The version of BullMQ's queue schema in this database (0: none). */
async function queueSchemaVersion(db: Pool | PoolClient): Promise<number> {
  const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('bullmq.migration') AS t");
  if (!rows[0]?.t) return 0;
  const v = await db.query<{ v: number }>('SELECT COALESCE(max(version), 0)::int AS v FROM bullmq.migration');
  return v.rows[0]?.v ?? 0;
}

/**
 * BullMQ's PostgreSQL queue schema (`bullmq`: the queues when REDIS_URL is unset),
 * made always so a database can drop Redis later. BullMQ's own migrator applies it
 * on one session under its own transaction advisory lock, so concurrent runs clash
 * cleanly too; workers only check it, never migrate it.
 */
async function migrateQueueSchema(pool: Pool): Promise<MigrationResult> {
  const { DEFAULT_SCHEMA, MIGRATION_ADVISORY_LOCK_KEY, runMigrations } = await import('bullmq');
  const { name, version } = await queueSchemaName();
  const client = await pool.connect();
  let failed = false;
  try {
    // BullMQ's own lock, taken first so that the version read says which of several
    // concurrent runs applies it. runMigrations' BEGIN inside this transaction is only
    // a warning; its lock is re-entrant, and its COMMIT or ROLLBACK ends this transaction.
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      MIGRATION_ADVISORY_LOCK_KEY,
      DEFAULT_SCHEMA,
    ]);
    const before = await queueSchemaVersion(client);
    await runMigrations(client);
    return { name, status: before >= version ? 'already-applied' : 'applied' };
  } catch (err) {
    failed = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`the queue schema (BullMQ ${name}) failed: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release(failed);
  }
}

/** Runs fn in one transaction holding the migration lock, released by COMMIT or ROLLBACK. */
function underLock<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    return fn(client);
  });
}

/**
 * Names of migrations not yet applied (for `sluice doctor`); BullMQ's queue schema
 * among them when `queueSchema` (the queues are in Postgres: REDIS_URL unset).
 */
export async function pendingMigrations(pool: Pool, opts: { queueSchema: boolean }): Promise<string[]> {
  const list = await loadMigrations();
  const queue = await queueSchemaName();
  const queuePending =
    opts.queueSchema && (await queueSchemaVersion(pool)) < queue.version ? [queue.name] : [];
  const exists = await pool.query(`SELECT to_regclass('sluice.migrations') AS t`);
  if (!exists.rows[0]?.t) return [...list.map((m) => m.name), ...queuePending];
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM sluice.migrations');
  const done = new Set(rows.map((r) => r.id));
  return [...list.filter((m) => !done.has(m.id)).map((m) => m.name), ...queuePending];
}

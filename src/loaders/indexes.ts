// HNSW cosine indexes, one per collection generation: built once a generation is
// idle (or large) with CREATE INDEX CONCURRENTLY, and on demand before a switch.
import { setTimeout as sleep } from 'node:timers/promises';
import { isEmbeddedPool } from '../db/embedded/pool.ts';
import type { Pool } from '../db/pool.ts';
import { literal, vectorCast } from './pgvector.ts';

/** Collections with this many chunks get their index even while ingestion is still running. */
export const INDEX_BUSY_THRESHOLD = 50_000;
/** pgvector's HNSW limit for halfvec. */
export const HNSW_HALFVEC_MAX = 4000;
/**
 * On the embedded database a generation gets its index only from this many
 * chunks: HNSW builds there are ~8x slower than on a server (10k x 384: 73 s vs
 * 9 s) and block the process, while exact search over 20k chunks takes ~145 ms.
 */
export const EMBEDDED_INDEX_THRESHOLD = 50_000;

/** 'small': embedded and below EMBEDDED_INDEX_THRESHOLD, so searched exactly, without an index. */
export type IndexOutcome = 'exists' | 'built' | 'busy' | 'unsupported' | 'small';

/** A collection generation and the state of its index (valid: null when it does not exist). */
interface GenerationIndexRow {
  collection: string;
  generation: number;
  dimensions: number;
  vector_type: 'vector' | 'halfvec';
  index_name: string;
  valid: boolean | null;
}

/**
 * Builds the HNSW cosine index of every active collection generation that lacks
 * one, when the collection is idle (nothing queued or processing) or large.
 * CREATE INDEX CONCURRENTLY keeps reads and writes going; an advisory lock keeps
 * one builder per collection across machines; an invalid leftover of an
 * interrupted build is dropped and rebuilt.
 */
export async function buildMissingIndexes(
  pool: Pool,
  opts: {
    force?: boolean;
    lockTimeoutMs?: number;
    only?: { collection: string; generation: number };
    /** Chunks from which the embedded database gets an index (tests lower it). */
    embeddedThreshold?: number;
  } = {},
): Promise<Record<string, IndexOutcome>> {
  const { rows } = await pool.query<GenerationIndexRow>(
    `SELECT g.collection, g.generation, g.dimensions, g.vector_type, g.index_name,
            (SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
              WHERE c.relname = g.index_name AND c.relnamespace = 'sluice'::regnamespace) AS valid
     FROM sluice.collection_generations g WHERE g.state IN ('active', 'building', 'ready')`,
  );
  const out: Record<string, IndexOutcome> = {};
  for (const g of rows) {
    const key = `${g.collection}#${g.generation}`;
    if (opts.only && (opts.only.collection !== g.collection || opts.only.generation !== g.generation))
      continue;
    if (g.valid === true) {
      out[key] = 'exists';
      continue;
    }
    if (g.dimensions > HNSW_HALFVEC_MAX) {
      out[key] = 'unsupported';
      continue;
    }
    if (isEmbeddedPool(pool)) {
      out[key] = await buildEmbeddedIndex(pool, g, opts.embeddedThreshold ?? EMBEDDED_INDEX_THRESHOLD);
      continue;
    }
    if (!opts.force) {
      const [busy] = (
        await pool.query<{ pending: string; chunks: string }>(
          `SELECT CASE WHEN c.active_generation = $2
                    THEN (SELECT count(*) FROM sluice.documents WHERE collection = $1 AND status IN ('queued', 'processing'))
                    ELSE (SELECT count(*) FROM sluice.generation_documents
                          WHERE collection = $1 AND generation = $2 AND status IN ('queued', 'processing')) END AS pending,
                  (SELECT count(*) FROM sluice.chunks WHERE collection = $1 AND generation = $2) AS chunks
           FROM sluice.collections c WHERE c.name = $1`,
          [g.collection, g.generation],
        )
      ).rows;
      if (Number(busy?.pending) > 0 && Number(busy?.chunks) < INDEX_BUSY_THRESHOLD) {
        out[key] = 'busy';
        continue;
      }
    }
    out[key] = await buildIndex(pool, g, opts.lockTimeoutMs ?? 30_000);
  }
  return out;
}

/** Builds (or finds) the HNSW index of one generation now, whether or not it is idle. */
export async function ensureGenerationIndex(
  pool: Pool,
  collection: string,
  generation: number,
  lockTimeoutMs = 30_000,
): Promise<IndexOutcome> {
  const all = await buildMissingIndexes(pool, {
    force: true,
    lockTimeoutMs,
    only: { collection, generation },
  });
  return all[`${collection}#${generation}`] ?? 'unsupported';
}

/**
 * Builds one index. Safe through a transaction pooler: the per-generation lock
 * is a transaction-level advisory lock held by an open transaction on one
 * connection (it ends with that transaction, so it is never left behind on a
 * pooled server connection), the CREATE INDEX CONCURRENTLY runs as one
 * statement on another, and no session setting is changed anywhere. An idle
 * read-committed transaction holds no snapshot, so the build does not wait for
 * the lock's own transaction. Needs three connections of the pool at once.
 */
async function buildIndex(pool: Pool, g: GenerationIndexRow, lockTimeoutMs: number): Promise<IndexOutcome> {
  const holder = await pool.connect();
  let broken = false;
  try {
    await holder.query('BEGIN');
    // Simple protocol (no parameters): an extended-protocol portal would keep a
    // snapshot open in this transaction, and the build would wait for it.
    const { rows } = await holder.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('sluice.index:' || ${literal(g.collection)} || ':${Number(g.generation)}')) AS ok`,
    );
    if (!rows[0]?.ok) return 'busy';
    if (g.valid === false) {
      await runWithLockTimeout(
        pool,
        `DROP INDEX CONCURRENTLY IF EXISTS sluice.${g.index_name}`,
        lockTimeoutMs,
      );
    }
    await runWithLockTimeout(pool, createIndexSql(g, 'CONCURRENTLY'), lockTimeoutMs);
    return 'built';
  } finally {
    await holder.query('ROLLBACK').catch(() => {
      broken = true;
    });
    holder.release(broken);
  }
}

/**
 * The embedded database's build: only above the size threshold, and as one
 * plain CREATE INDEX, since the one session runs nothing else meanwhile anyway
 * (CONCURRENTLY, the advisory lock and the lock-wait watcher are for servers).
 */
async function buildEmbeddedIndex(
  pool: Pool,
  g: GenerationIndexRow,
  threshold: number,
): Promise<IndexOutcome> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM sluice.chunks WHERE collection = $1 AND generation = $2',
    [g.collection, g.generation],
  );
  if (Number(rows[0]?.n) < threshold) return 'small';
  if (g.valid === false) await pool.query(`DROP INDEX IF EXISTS sluice.${g.index_name}`);
  await pool.query(createIndexSql(g, ''));
  return 'built';
}

function createIndexSql(g: GenerationIndexRow, concurrently: 'CONCURRENTLY' | ''): string {
  const cast = vectorCast({ dimensions: g.dimensions, vectorType: g.vector_type });
  return `CREATE INDEX ${concurrently} IF NOT EXISTS ${g.index_name} ON sluice.chunks
         USING hnsw ((embedding::${cast}) ${g.vector_type}_cosine_ops)
         WHERE collection = ${literal(g.collection)} AND generation = ${Number(g.generation)}`;
}

/**
 * Runs one statement, cancelling it once it has waited for a lock longer than
 * lockTimeoutMs: CREATE INDEX CONCURRENTLY waits for every older transaction in
 * the database, and a stuck one must not hold the caller (a worker's maintenance
 * tick, a CLI) forever. This is lock_timeout without `SET`, which would outlive
 * the statement on a pooled connection. On timeout the invalid leftover is
 * dropped and rebuilt next time.
 */
async function runWithLockTimeout(pool: Pool, sql: string, lockTimeoutMs: number): Promise<void> {
  const stop = new AbortController();
  let timedOut = false;
  const watch = async () => {
    let waitingSince: number | undefined;
    const interval = Math.max(20, Math.min(1000, lockTimeoutMs / 5));
    for (;;) {
      if (!(await sleep(interval, true, { signal: stop.signal }).catch(() => false))) return;
      const { rows } = await pool
        .query<{ pid: number; waiting: boolean }>(
          `SELECT pid, wait_event_type = 'Lock' AS waiting FROM pg_stat_activity
           WHERE query = $1 AND state = 'active' AND datname = current_database()`,
          [sql],
        )
        .catch(() => ({ rows: [] as { pid: number; waiting: boolean }[] }));
      const stmt = rows[0];
      if (!stmt?.waiting) {
        waitingSince = undefined;
        continue;
      }
      waitingSince ??= Date.now();
      if (Date.now() - waitingSince >= lockTimeoutMs && !stop.signal.aborted) {
        timedOut = true;
        await pool.query('SELECT pg_cancel_backend($1)', [stmt.pid]).catch(() => undefined);
        return;
      }
    }
  };
  const watching = watch();
  try {
    await pool.query(sql);
  } catch (err) {
    if (!timedOut) throw err;
    throw new Error(
      `canceling statement due to lock timeout (waited ${lockTimeoutMs} ms for older transactions)`,
      {
        cause: err,
      },
    );
  } finally {
    stop.abort();
    await watching;
  }
}

// HNSW cosine indexes, one per collection generation: built once a generation is
// idle (or large) with CREATE INDEX CONCURRENTLY, and on demand before a switch.
import type { Pool } from '../db/pool.ts';
import { literal, vectorCast } from './pgvector.ts';

/** Collections with this many chunks get their index even while ingestion is still running. */
export const INDEX_BUSY_THRESHOLD = 50_000;
/** pgvector's HNSW limit for halfvec. */
export const HNSW_HALFVEC_MAX = 4000;

export type IndexOutcome = 'exists' | 'built' | 'busy' | 'unsupported';

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
  opts: { force?: boolean; lockTimeoutMs?: number; only?: { collection: string; generation: number } } = {},
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

async function buildIndex(pool: Pool, g: GenerationIndexRow, lockTimeoutMs: number): Promise<IndexOutcome> {
  const client = await pool.connect();
  const lockKey = `sluice.index:${g.collection}:${g.generation}`;
  try {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
      lockKey,
    ]);
    if (!rows[0]?.ok) return 'busy';
    try {
      // CREATE INDEX CONCURRENTLY waits for every older transaction in the database;
      // a stuck one must not hold the caller (a worker's maintenance tick, a CLI) forever.
      // On timeout the invalid leftover is dropped and rebuilt next time.
      await client.query(`SET lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
      if (g.valid === false) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS sluice.${g.index_name}`);
      const cast = vectorCast({ dimensions: g.dimensions, vectorType: g.vector_type });
      await client.query(
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${g.index_name} ON sluice.chunks
         USING hnsw ((embedding::${cast}) ${g.vector_type}_cosine_ops)
         WHERE collection = ${literal(g.collection)} AND generation = ${Number(g.generation)}`,
      );
      return 'built';
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    }
  } finally {
    client.release(true); // session settings changed: do not hand this connection to anyone else
  }
}

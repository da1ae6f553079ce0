// Moving searches between generations: `switch` and `rollback` flip a
// collection's active generation in one transaction; `retire` drops one.
import { type Pool, withTransaction } from '../db/pool.ts';
import { SluiceError } from '../errors.ts';
import { fromStatuses } from './document-state.ts';
import { getGeneration } from './generations.ts';

/**
 * Makes `target` the active generation in one transaction: searches that start
 * after the commit read it, searches before read the old one, none a mix. The
 * former active generation stays (state ready) and live ingestion keeps it
 * current, so `rollback` can return to it. `requireReady` refuses a build still
 * in progress.
 */
export async function activateGeneration(
  pool: Pool,
  collection: string,
  target: number,
  opts: { requireReady: boolean },
): Promise<{ from: number; to: number }> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ active_generation: number }>(
      'SELECT active_generation FROM sluice.collections WHERE name = $1 FOR UPDATE',
      [collection],
    );
    const from = rows[0]?.active_generation;
    if (from === undefined)
      throw new SluiceError('CONFIG_ERROR', `collection "${collection}" does not exist`);
    const g = await getGeneration(client, collection, target);
    if (!g) throw new SluiceError('CONFIG_ERROR', `collection "${collection}" has no generation ${target}`);
    if (target === from) return { from, to: target };
    if (g.state === 'retired')
      throw new SluiceError(
        'CONFIG_ERROR',
        `generation ${target} of "${collection}" is retired: re-index instead`,
      );
    if (opts.requireReady && g.state !== 'ready') {
      throw new SluiceError(
        'CONFIG_ERROR',
        `generation ${target} of "${collection}" is still ${g.state}: wait for it (sluice generations), or use --auto-switch`,
      );
    }
    await client.query(
      `UPDATE sluice.collection_generations SET state = 'ready' WHERE collection = $1 AND generation = $2`,
      [collection, from],
    );
    await client.query(
      `UPDATE sluice.collection_generations SET state = 'active', activated_at = now(), auto_switch = false
       WHERE collection = $1 AND generation = $2`,
      [collection, target],
    );
    await client.query(
      'UPDATE sluice.collections SET active_generation = $2, previous_generation = $3 WHERE name = $1',
      [collection, target, from],
    );
    // The old active generation's documents are live ingestion's: start its own ledger from them.
    await client.query(
      `INSERT INTO sluice.generation_documents (collection, generation, document_id, content_hash, status)
       SELECT collection, $2, id, indexed_hash, 'done' FROM sluice.documents
       WHERE collection = $1 AND indexed_hash IS NOT NULL AND status <> 'deleted'
       ON CONFLICT (collection, generation, document_id) DO UPDATE
         SET content_hash = EXCLUDED.content_hash, status = 'done', error_code = NULL, error_message = NULL,
             updated_at = now()`,
      [collection, from],
    );
    // A stale document serves its last good version only where that version is
    // loaded; a generation without it (a build skips stale documents) serves
    // nothing of it, and its status must say so.
    await client.query(
      `UPDATE sluice.documents d SET status = 'failed', indexed_hash = NULL, updated_at = now()
       WHERE d.collection = $1 AND d.status = ANY($3::text[])
         AND NOT EXISTS (SELECT 1 FROM sluice.chunks c WHERE c.document_id = d.id AND c.generation = $2)`,
      [collection, target, fromStatuses('unserve')],
    );
    // The new active generation's progress becomes live ingestion's; documents still
    // on their way into it (a rollback to a generation catching up) finish as they are.
    await client.query(
      `DELETE FROM sluice.generation_documents
       WHERE collection = $1 AND generation = $2 AND status NOT IN ('queued', 'processing')`,
      [collection, target],
    );
    return { from, to: target };
  });
}

/** The generation `rollback` returns to: the one active before the last switch. */
export async function previousGeneration(pool: Pool, collection: string): Promise<number | undefined> {
  const { rows } = await pool.query<{ previous_generation: number | null }>(
    `SELECT c.previous_generation FROM sluice.collections c JOIN sluice.collection_generations g
       ON g.collection = c.name AND g.generation = c.previous_generation
     WHERE c.name = $1 AND g.state <> 'retired'`,
    [collection],
  );
  return rows[0]?.previous_generation ?? undefined;
}

/**
 * Retires a generation that is not active: its chunks, ledger and index go, its
 * row stays (state retired) so numbers are never reused. Also cancels a build.
 */
export async function retireGeneration(
  pool: Pool,
  collection: string,
  generation: number,
): Promise<{ chunks: number; indexName: string }> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ active_generation: number; previous_generation: number | null }>(
      'SELECT active_generation, previous_generation FROM sluice.collections WHERE name = $1 FOR UPDATE',
      [collection],
    );
    const c = rows[0];
    if (!c) throw new SluiceError('CONFIG_ERROR', `collection "${collection}" does not exist`);
    const g = await getGeneration(client, collection, generation);
    if (!g)
      throw new SluiceError('CONFIG_ERROR', `collection "${collection}" has no generation ${generation}`);
    if (generation === c.active_generation) {
      throw new SluiceError(
        'CONFIG_ERROR',
        `generation ${generation} is the active one: switch to another first (sluice switch / rollback)`,
      );
    }
    await client.query(
      `UPDATE sluice.collection_generations SET state = 'retired', retired_at = now(), auto_switch = false
       WHERE collection = $1 AND generation = $2`,
      [collection, generation],
    );
    await client.query('DELETE FROM sluice.generation_documents WHERE collection = $1 AND generation = $2', [
      collection,
      generation,
    ]);
    const del = await client.query('DELETE FROM sluice.chunks WHERE collection = $1 AND generation = $2', [
      collection,
      generation,
    ]);
    if (c.previous_generation === generation)
      await client.query('UPDATE sluice.collections SET previous_generation = NULL WHERE name = $1', [
        collection,
      ]);
    return { chunks: del.rowCount ?? 0, indexName: g.indexName };
  });
}

/** Drops a retired generation's HNSW index (outside a transaction: CONCURRENTLY). */
export async function dropGenerationIndex(pool: Pool, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new SluiceError('INTERNAL', `unexpected index name ${name}`);
  await pool.query(`DROP INDEX CONCURRENTLY IF EXISTS sluice.${name}`);
}

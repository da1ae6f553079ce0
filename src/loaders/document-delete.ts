// Deleting documents: their chunks in every generation and their ledger rows go
// in the same transaction that marks them deleted, under the row lock the load
// stage takes, so a deletion always wins over a load in flight.
import { type Pool, type PoolClient, withTransaction } from '../db/pool.ts';
import { fromStatuses } from './document-state.ts';

/**
 * Removes a document's chunks (every generation) and marks it deleted, in one
 * transaction. The rows are locked first (FOR UPDATE, in id order, the lock the
 * load takes on its document), so a load in progress either commits before (its
 * chunks are then deleted here) or waits, then sees the deletion and stops.
 */
export async function deleteDocuments(pool: Pool, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return withTransaction(pool, async (client) => {
    await lockDocuments(client, ids);
    // A mail message's attachments (uri `<message>#attachment/...`, nested ones
    // `<attachment>/attachment/...`) go with it.
    const { rows } = await client.query<{ id: string }>(
      `SELECT c.id FROM sluice.documents d JOIN sluice.documents c
         ON c.collection = d.collection AND c.status <> 'deleted'
        AND (starts_with(c.uri, d.uri || '#attachment/')
             OR (strpos(d.uri, '#attachment/') > 0 AND starts_with(c.uri, d.uri || '/attachment/')))
       WHERE d.id = ANY($1::bigint[])`,
      [ids],
    );
    const all = [...new Set([...ids, ...rows.map((r) => Number(r.id))])];
    await lockDocuments(client, all);
    const { rowCount } = await client.query(
      `UPDATE sluice.documents SET status = 'deleted', stage = NULL, indexed_hash = NULL, updated_at = now()
       WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[])`,
      [all, fromStatuses('delete')],
    );
    await client.query('DELETE FROM sluice.chunks WHERE document_id = ANY($1::bigint[])', [all]);
    await client.query('DELETE FROM sluice.generation_documents WHERE document_id = ANY($1::bigint[])', [
      all,
    ]);
    return rowCount ?? 0;
  });
}

/** Row-locks documents in id order (a fixed order, so two deletes never deadlock). */
async function lockDocuments(client: PoolClient, ids: number[]): Promise<void> {
  await client.query('SELECT id FROM sluice.documents WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [
    ids,
  ]);
}

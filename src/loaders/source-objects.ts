// What sluice last saw of each file or object of a source (migration 0003), so a
// restarted watcher recognises unchanged files without reading them, and the
// deletions a complete listing implies: pending through the grace period, held
// by the mass-delete guard, applied (document and chunks) or discarded.
import { type Pool, withTransaction } from '../db/pool.ts';
import { deleteDocuments } from './documents.ts';

const num = (v: unknown): number => Number(v);

/** One file or object as a listing reports it. */
export interface ListedObject {
  key: string;
  uri: string;
  size: number;
  mtimeMs: number;
  inode?: string | undefined;
  etag?: string | undefined;
}

export interface StoredObject extends ListedObject {
  contentHash: string | null;
  documentId: number | null;
  state: 'present' | 'missing' | 'held';
}

/** Stored state of the given keys (one batch of a listing). */
export async function storedObjects(
  pool: Pool,
  sourceId: number,
  keys: string[],
): Promise<Map<string, StoredObject>> {
  const { rows } = await pool.query(
    `SELECT key, uri, size, mtime_ms, inode, etag, content_hash, document_id, state
     FROM sluice.source_objects WHERE source_id = $1 AND key = ANY($2::text[])`,
    [sourceId, keys],
  );
  return new Map(
    rows.map((r) => [
      r.key as string,
      {
        key: r.key,
        uri: r.uri,
        size: num(r.size),
        mtimeMs: r.mtime_ms,
        inode: r.inode ?? undefined,
        etag: r.etag ?? undefined,
        contentHash: r.content_hash,
        documentId: r.document_id === null ? null : num(r.document_id),
        state: r.state,
      },
    ]),
  );
}

/** Records a listed object that is present (again): clears a pending or held deletion. */
export async function markSeen(pool: Pool, sourceId: number, keys: string[], seq: number): Promise<void> {
  if (keys.length === 0) return;
  await pool.query(
    `UPDATE sluice.source_objects SET seen_seq = GREATEST(seen_seq, $3), state = 'present', missing_since = NULL
     WHERE source_id = $1 AND key = ANY($2::text[])`,
    [sourceId, keys, seq],
  );
}

/** Stores what was ingested for an object (its version and document). */
export async function saveObject(
  pool: Pool,
  sourceId: number,
  o: ListedObject & { contentHash: string | null; documentId: number | null },
  seq: number,
): Promise<void> {
  await pool.query(
    `INSERT INTO sluice.source_objects
       (source_id, key, uri, size, mtime_ms, inode, etag, content_hash, document_id, seen_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (source_id, key) DO UPDATE SET uri = EXCLUDED.uri, size = EXCLUDED.size,
       mtime_ms = EXCLUDED.mtime_ms, inode = EXCLUDED.inode, etag = EXCLUDED.etag,
       content_hash = EXCLUDED.content_hash, document_id = EXCLUDED.document_id,
       seen_seq = GREATEST(sluice.source_objects.seen_seq, EXCLUDED.seen_seq),
       state = 'present', missing_since = NULL`,
    [
      sourceId,
      o.key,
      o.uri,
      o.size,
      o.mtimeMs,
      o.inode ?? null,
      o.etag ?? null,
      o.contentHash,
      o.documentId,
      seq,
    ],
  );
}

/**
 * After a complete listing: objects it did not see become missing (kept
 * missing_since if already missing), and the scan is recorded on the source.
 */
export async function finishScan(pool: Pool, sourceId: number, seq: number, ms: number): Promise<void> {
  await withTransaction(pool, async (c) => {
    await c.query(
      `UPDATE sluice.source_objects SET state = 'missing', missing_since = coalesce(missing_since, now())
       WHERE source_id = $1 AND seen_seq < $2 AND state = 'present'`,
      [sourceId, seq],
    );
    await c.query(
      `UPDATE sluice.sources SET scan_seq = $2, last_scan_at = now(), last_scan_ms = $3, last_error = NULL
       WHERE id = $1`,
      [sourceId, seq, Math.round(ms)],
    );
  });
}

/** Objects confirmed gone by a live event (a watched file unlinked and no longer there). */
export async function markMissing(pool: Pool, sourceId: number, keys: string[]): Promise<void> {
  await pool.query(
    `UPDATE sluice.source_objects SET state = 'missing', missing_since = coalesce(missing_since, now())
     WHERE source_id = $1 AND key = ANY($2::text[]) AND state = 'present'`,
    [sourceId, keys],
  );
}

/** Missing objects whose grace period is over: the deletions one sync would apply. */
export async function dueDeletions(
  pool: Pool,
  sourceId: number,
  graceMs: number,
): Promise<{ keys: string[]; total: number }> {
  const { rows } = await pool.query<{ key: string; total: string }>(
    `SELECT key, (SELECT count(*) FROM sluice.source_objects WHERE source_id = $1) AS total
     FROM sluice.source_objects WHERE source_id = $1 AND state = 'missing'
       AND missing_since <= now() - make_interval(secs => $2::double precision / 1000)`,
    [sourceId, graceMs],
  );
  if (rows.length > 0) return { keys: rows.map((r) => r.key), total: num(rows[0]!.total) };
  const t = await pool.query('SELECT count(*) AS n FROM sluice.source_objects WHERE source_id = $1', [
    sourceId,
  ]);
  return { keys: [], total: num(t.rows[0]?.n ?? 0) };
}

export async function holdDeletions(pool: Pool, sourceId: number, keys: string[]): Promise<void> {
  await pool.query(
    `UPDATE sluice.source_objects SET state = 'held' WHERE source_id = $1 AND key = ANY($2::text[])`,
    [sourceId, keys],
  );
}

/**
 * Removes the objects' documents (chunks first, one transaction) and forgets the
 * objects. Returns how many documents were marked deleted.
 */
export async function applyDeletions(
  pool: Pool,
  sourceId: number,
  keys: string[],
  state: 'missing' | 'held',
): Promise<number> {
  if (keys.length === 0) return 0;
  const { rows } = await pool.query<{ document_id: string | null }>(
    `DELETE FROM sluice.source_objects WHERE source_id = $1 AND key = ANY($2::text[]) AND state = $3
     RETURNING document_id`,
    [sourceId, keys, state],
  );
  const ids = rows.filter((r) => r.document_id !== null).map((r) => num(r.document_id));
  return deleteDocuments(pool, ids);
}

export async function heldKeys(pool: Pool, sourceId: number): Promise<string[]> {
  const { rows } = await pool.query<{ key: string }>(
    `SELECT key FROM sluice.source_objects WHERE source_id = $1 AND state = 'held' ORDER BY key`,
    [sourceId],
  );
  return rows.map((r) => r.key);
}

/** Applies every deletion the guard holds for a source (`sources approve-deletes`, the dashboard). */
export async function approveHeld(
  pool: Pool,
  sourceId: number,
): Promise<{ approved: number; deleted: number }> {
  const keys = await heldKeys(pool, sourceId);
  return { approved: keys.length, deleted: await applyDeletions(pool, sourceId, keys, 'held') };
}

/** Forgets held deletions: the documents stay indexed, and the objects are no longer tracked. */
export async function discardHeld(pool: Pool, sourceId: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM sluice.source_objects WHERE source_id = $1 AND state = 'held'`,
    [sourceId],
  );
  return rowCount ?? 0;
}

/** Keeps every stored object under these folders as seen (their folder could not be listed). */
export async function markSeenUnder(
  pool: Pool,
  sourceId: number,
  prefixes: string[],
  seq: number,
): Promise<void> {
  if (prefixes.length === 0) return;
  const all = prefixes.includes('');
  await pool.query(
    `UPDATE sluice.source_objects SET seen_seq = GREATEST(seen_seq, $3)
     WHERE source_id = $1 AND ($4 OR EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE left(key, length(p) + 1) = p || '/'))`,
    [sourceId, prefixes, seq, all],
  );
}

/** Documents the given sources track (what `watch --once` waits for). */
export async function sourceDocumentIds(pool: Pool, sourceIds: number[]): Promise<number[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT DISTINCT document_id AS id FROM sluice.source_objects
     WHERE source_id = ANY($1::bigint[]) AND document_id IS NOT NULL`,
    [sourceIds],
  );
  return rows.map((r) => num(r.id));
}

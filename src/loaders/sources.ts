// Source state (migration 0003): the sources sluice follows, what it last saw of
// each file or object there, the one-watcher-per-source lease, and deletions
// waiting out a grace period or held by the mass-delete guard.
import { type Pool, withTransaction } from '../db/pool.ts';
import { deleteDocuments } from './documents.ts';

export type SourceKind = 'folder' | 's3';

export interface SourceRow {
  id: number;
  kind: SourceKind;
  uri: string;
  collection: string;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  scan_seq: number;
  last_scan_at: Date | null;
  last_scan_ms: number | null;
  last_error: string | null;
}

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

const num = (v: unknown): number => Number(v);

function toSource(r: Record<string, unknown>): SourceRow {
  return { ...(r as unknown as SourceRow), id: num(r.id), scan_seq: num(r.scan_seq) };
}

/** The source row for (uri, collection), created on first use. */
export async function ensureSource(
  pool: Pool,
  s: { kind: SourceKind; uri: string; collection: string },
): Promise<SourceRow> {
  const { rows } = await pool.query(
    `INSERT INTO sluice.sources (kind, uri, collection) VALUES ($1, $2, $3)
     ON CONFLICT (uri, collection) DO UPDATE SET kind = EXCLUDED.kind RETURNING *`,
    [s.kind, s.uri, s.collection],
  );
  return toSource(rows[0]);
}

/** Sources matched by id or uri (any collection unless given). */
export async function findSources(pool: Pool, ref: string, collection?: string): Promise<SourceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM sluice.sources WHERE (uri = $1 OR uri = rtrim($1, '/') OR id::text = $1)
       AND ($2::text IS NULL OR collection = $2) ORDER BY id`,
    [ref, collection ?? null],
  );
  return rows.map(toSource);
}

/**
 * Takes or renews the source's lease for owner. False while another live
 * watcher holds it; an expired lease (its watcher died) is taken over.
 */
export async function acquireLease(pool: Pool, id: number, owner: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.sources SET lease_owner = $2,
       lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
     WHERE id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < now())`,
    [id, owner, ttlMs],
  );
  return rowCount === 1;
}

export async function releaseLease(pool: Pool, id: number, owner: string): Promise<void> {
  await pool.query(
    'UPDATE sluice.sources SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2',
    [id, owner],
  );
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

/** The next listing's sequence number (committed by finishScan once the listing completed). */
export async function nextScanSeq(pool: Pool, sourceId: number): Promise<number> {
  const { rows } = await pool.query('SELECT scan_seq FROM sluice.sources WHERE id = $1', [sourceId]);
  return num(rows[0]?.scan_seq ?? 0) + 1;
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

export async function recordSourceError(pool: Pool, sourceId: number, message: string): Promise<void> {
  await pool.query('UPDATE sluice.sources SET last_error = $2 WHERE id = $1', [
    sourceId,
    message.slice(0, 2000),
  ]);
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

/** Forgets held deletions: the documents stay indexed, and the objects are no longer tracked. */
export async function discardHeld(pool: Pool, sourceId: number): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM sluice.source_objects WHERE source_id = $1 AND state = 'held'`,
    [sourceId],
  );
  return rowCount ?? 0;
}

export interface SourceSummary extends SourceRow {
  objects: number;
  pendingDeletes: number;
  heldDeletes: number;
}

/** Every source with its object counts and pending/held deletions (`sluice sources`, status). */
export async function sourceSummaries(pool: Pool): Promise<SourceSummary[]> {
  const { rows } = await pool.query(
    `SELECT s.*,
       count(o.key) FILTER (WHERE o.state = 'present') AS objects,
       count(o.key) FILTER (WHERE o.state = 'missing') AS pending_deletes,
       count(o.key) FILTER (WHERE o.state = 'held') AS held_deletes
     FROM sluice.sources s LEFT JOIN sluice.source_objects o ON o.source_id = s.id
     GROUP BY s.id ORDER BY s.id`,
  );
  return rows.map((r) => ({
    ...toSource(r),
    objects: num(r.objects),
    pendingDeletes: num(r.pending_deletes),
    heldDeletes: num(r.held_deletes),
  }));
}

/** Adds keys to a document's metadata (an upload's original file name). */
export async function mergeDocumentMetadata(
  pool: Pool,
  documentId: number,
  metadata: Record<string, unknown>,
): Promise<void> {
  await pool.query('UPDATE sluice.documents SET metadata = metadata || $2::jsonb WHERE id = $1', [
    documentId,
    JSON.stringify(metadata),
  ]);
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

/** Sources with deletions the guard holds (for `sluice status`). */
export async function heldDeletionsBySource(
  pool: Pool,
  collection: string | null,
): Promise<{ source: string; collection: string; held: number }[]> {
  const { rows } = await pool.query<{ uri: string; collection: string; held: string }>(
    `SELECT s.uri, s.collection, count(*) AS held FROM sluice.sources s
     JOIN sluice.source_objects o ON o.source_id = s.id AND o.state = 'held'
     WHERE $1::text IS NULL OR s.collection = $1 GROUP BY s.id ORDER BY s.uri`,
    [collection],
  );
  return rows.map((r) => ({ source: r.uri, collection: r.collection, held: num(r.held) }));
}

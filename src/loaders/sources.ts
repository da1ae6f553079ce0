// Sources (migration 0003): the folders and bucket prefixes sluice follows, the
// one-watcher-per-source lease, scan bookkeeping, and the summaries `sluice
// sources` and `sluice status` show. Per-object state is in source-objects.ts.
import type { Pool } from '../db/pool.ts';

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

/** The next listing's sequence number (committed by finishScan once the listing completed). */
export async function nextScanSeq(pool: Pool, sourceId: number): Promise<number> {
  const { rows } = await pool.query('SELECT scan_seq FROM sluice.sources WHERE id = $1', [sourceId]);
  return num(rows[0]?.scan_seq ?? 0) + 1;
}

export async function recordSourceError(pool: Pool, sourceId: number, message: string): Promise<void> {
  await pool.query('UPDATE sluice.sources SET last_error = $2 WHERE id = $1', [
    sourceId,
    message.slice(0, 2000),
  ]);
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

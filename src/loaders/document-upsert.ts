// Recording document versions seen at a source, many in one statement (issue #15):
// one round trip and one commit per batch instead of one or two per file. The
// guards are those of the per-file upsert it replaced: only a new or changed
// version, a deleted document coming back, or --force is (re)queued; a refused
// file (too large) is failed, or stale while an older version of it is indexed.
import type { Pool } from '../db/pool.ts';
import { failedStatusSql, IN_FLIGHT } from './document-state.ts';

/** What recording a version did: queued it, found it unchanged (done) or in flight, or refused it. */
export type UpsertAction = 'queued' | 'unchanged' | 'in-flight' | 'refused';

/** A version seen at its source: hashed, or refused unread (too large) for `refusal`'s reason. */
export type VersionInput = { uri: string; bytes: number } & (
  | { contentHash: string }
  | { contentHash: undefined; refusal: { code: string; message: string } }
);

const UPSERT_SQL = `
WITH input AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
    WITH ORDINALITY AS t(uri, content_hash, bytes, error_code, error_message, ord)
),
written AS (
  INSERT INTO sluice.documents AS d (collection, uri, content_hash, bytes, status, stage, error_code, error_message)
  SELECT $1, uri, content_hash, bytes,
         CASE WHEN content_hash IS NULL THEN 'failed' ELSE 'queued' END,
         CASE WHEN content_hash IS NULL THEN NULL ELSE 'extract' END,
         error_code, error_message
  FROM input ORDER BY ord
  ON CONFLICT (collection, uri) DO UPDATE
    SET content_hash = EXCLUDED.content_hash, bytes = EXCLUDED.bytes,
        status = CASE WHEN EXCLUDED.content_hash IS NULL THEN ${failedStatusSql('d')} ELSE 'queued' END,
        stage = EXCLUDED.stage, error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
        attempts = CASE WHEN EXCLUDED.content_hash IS NULL THEN d.attempts ELSE 0 END, updated_at = now()
    WHERE EXCLUDED.content_hash IS NULL OR d.content_hash IS DISTINCT FROM EXCLUDED.content_hash
       OR d.status = 'deleted' OR $7::boolean
  RETURNING d.id, d.uri
)
SELECT coalesce(w.id, d.id) AS id,
       CASE WHEN i.content_hash IS NULL THEN 'refused'
            WHEN w.id IS NOT NULL THEN 'queued'
            WHEN d.status = ANY($8::text[]) THEN 'in-flight'
            ELSE 'unchanged' END AS action
FROM input i
LEFT JOIN written w ON w.uri = i.uri
LEFT JOIN sluice.documents d ON d.collection = $1 AND d.uri = i.uri
ORDER BY i.ord`;

/**
 * Records versions of documents of one collection in one statement and says, in
 * input order, what became of each. Every uri must appear once (Postgres cannot
 * update one row twice in a statement); producer batches are split that way.
 */
export async function upsertDocuments(
  pool: Pool,
  collection: string,
  items: readonly VersionInput[],
  opts: { force?: boolean } = {},
): Promise<{ id: number; action: UpsertAction }[]> {
  if (items.length === 0) return [];
  const { rows } = await pool.query<{ id: string | null; action: UpsertAction }>(UPSERT_SQL, [
    collection,
    items.map((i) => i.uri),
    items.map((i) => i.contentHash ?? null),
    items.map((i) => i.bytes),
    items.map((i) => (i.contentHash === undefined ? i.refusal.code : null)),
    items.map((i) => (i.contentHash === undefined ? i.refusal.message : null)),
    opts.force === true,
    [...IN_FLIGHT],
  ]);
  const out = rows.map((r) => ({ id: Number(r.id), action: r.action }));
  const unseen = items.filter((_, i) => rows[i]?.id === null).map((i) => i.uri);
  if (unseen.length > 0) await resolveUnseen(pool, collection, unseen, items, out);
  return out;
}

/**
 * A row another ingest inserted while this statement ran is not in its snapshot:
 * the upsert left it alone (same version), so it is read back in a new statement.
 */
async function resolveUnseen(
  pool: Pool,
  collection: string,
  uris: string[],
  items: readonly VersionInput[],
  out: { id: number; action: UpsertAction }[],
): Promise<void> {
  const { rows } = await pool.query<{ id: string; uri: string; status: string }>(
    'SELECT id, uri, status FROM sluice.documents WHERE collection = $1 AND uri = ANY($2::text[])',
    [collection, uris],
  );
  const byUri = new Map(rows.map((r) => [r.uri, r]));
  items.forEach((item, i) => {
    const row = byUri.get(item.uri);
    if (!row) return;
    const inFlight = (IN_FLIGHT as readonly string[]).includes(row.status);
    out[i] = { id: Number(row.id), action: inFlight ? 'in-flight' : 'unchanged' };
  });
}

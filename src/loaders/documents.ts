// Document rows: the ledger of what was ingested and where each document is.
// Every status change goes through here (the load's in pgvector.ts), guarded by
// the content hash so a stale job for an old version can never overwrite the
// state of a newer one, and by the statuses document-state.ts allows it from.
import type { Pool } from '../db/pool.ts';
import {
  DOCUMENT_STATUSES,
  type DocumentStatus,
  failedStatusSql,
  fromStatuses,
  IN_FLIGHT,
  RETRYABLE,
} from './document-state.ts';
import { upsertDocuments } from './document-upsert.ts';

export type { DocumentStatus } from './document-state.ts';
export type Stage = 'extract' | 'chunk' | 'embed' | 'load';

export interface DocumentRow {
  id: number;
  collection: string;
  uri: string;
  content_hash: string | null;
  indexed_hash: string | null;
  mime: string | null;
  bytes: number | null;
  title: string | null;
  metadata: Record<string, unknown>;
  status: DocumentStatus;
  stage: Stage | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  updated_at: Date;
}

export type IngestAction = 'queued' | 'unchanged' | 'in-flight';

export interface UpsertInput {
  collection: string;
  uri: string;
  contentHash: string;
  bytes: number;
  force?: boolean;
}

/**
 * Records a document version seen at its source. A new or changed version (or
 * --force, or a deleted one coming back) is queued; the same bytes again are
 * 'unchanged' (done) or 'in-flight' (still being processed, safe to re-enqueue).
 * Many at once: upsertDocuments (document-upsert.ts).
 */
export async function upsertDocument(
  pool: Pool,
  input: UpsertInput,
): Promise<{ id: number; action: IngestAction }> {
  const [row] = await upsertDocuments(
    pool,
    input.collection,
    [{ uri: input.uri, contentHash: input.contentHash, bytes: input.bytes }],
    { force: input.force === true },
  );
  return { id: row!.id, action: row!.action as IngestAction }; // hashed: never 'refused'
}

export async function getDocument(pool: Pool, id: number): Promise<DocumentRow | undefined> {
  const { rows } = await pool.query<DocumentRow>('SELECT * FROM sluice.documents WHERE id = $1', [id]);
  const row = rows[0];
  return row
    ? { ...row, id: Number(row.id), bytes: row.bytes === null ? null : Number(row.bytes) }
    : undefined;
}

/** Marks a document as being in a stage, only if it is still the version the job is for. */
export async function markStage(
  pool: Pool,
  id: number,
  hash: string,
  stage: Stage,
  attempt: number,
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.documents SET status = 'processing', stage = $3, attempts = GREATEST(attempts, $4), updated_at = now()
     WHERE id = $1 AND content_hash = $2 AND status = ANY($5::text[])`,
    [id, hash, stage, attempt, fromStatuses('start')],
  );
  return rowCount === 1;
}

/** Records extraction results on the document row. */
export async function setExtracted(
  pool: Pool,
  id: number,
  hash: string,
  info: { mime: string; title: string | null; metadata: Record<string, unknown> },
): Promise<void> {
  await pool.query(
    `UPDATE sluice.documents SET mime = $3, title = $4, metadata = metadata || $5::jsonb, updated_at = now()
     WHERE id = $1 AND content_hash = $2`,
    [id, hash, info.mime, info.title, JSON.stringify(info.metadata)],
  );
}

/**
 * Fails one document version in flight with a reason code; other documents are
 * untouched. A document with an older version indexed becomes `stale` (that
 * version keeps serving, the error says why the new one is not there), else `failed`.
 */
export async function markFailed(
  pool: Pool,
  id: number,
  hash: string,
  failure: { code: string; message: string; stage: Stage; attempts: number },
): Promise<void> {
  await pool.query(
    `UPDATE sluice.documents SET status = ${failedStatusSql()}, stage = $3, error_code = $4, error_message = $5,
       attempts = GREATEST(attempts, $6), updated_at = now()
     WHERE id = $1 AND content_hash = $2 AND status = ANY($7::text[])`,
    [
      id,
      hash,
      failure.stage,
      failure.code,
      failure.message.slice(0, 2000),
      failure.attempts,
      fromStatuses('fail'),
    ],
  );
}

/**
 * Notes on a document version in flight that it waits on a configuration fix or a
 * budget (its status stays). Guarded like every status change: a job for an older
 * version, or one for a document done, failed or deleted meanwhile, changes nothing.
 */
export async function markWaiting(
  pool: Pool,
  id: number,
  hash: string,
  code: string,
  message: string,
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.documents SET error_code = $3, error_message = $4
     WHERE id = $1 AND content_hash = $2 AND status = ANY($5::text[])`,
    [id, hash, code, `waiting: ${message}`.slice(0, 2000), [...IN_FLIGHT]],
  );
  return rowCount === 1;
}

/** A document row still queued or processing, as the reconciler sees it. */
export interface InFlightRow {
  id: string;
  collection: string;
  uri: string;
  content_hash: string;
  stage: Stage | null;
  attempts: number;
}

/**
 * Documents queued or processing that nothing has touched for staleMs, by id,
 * `limit` at a time from after `afterId` (a sweep pages through all of them).
 */
export async function staleInFlight(
  pool: Pool,
  staleMs: number,
  limit: number,
  afterId = 0,
): Promise<InFlightRow[]> {
  const { rows } = await pool.query<InFlightRow>(
    `SELECT id, collection, uri, content_hash, stage, attempts FROM sluice.documents
     WHERE status = ANY($3::text[]) AND content_hash IS NOT NULL
       AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
       AND id > $4
     ORDER BY id LIMIT $2`,
    [staleMs, limit, [...IN_FLIGHT], afterId],
  );
  return rows;
}

/**
 * Counts a re-queue against each document (and touches it) that is still that
 * version in flight; returns the ids it counted.
 */
export async function bumpRequeues(
  pool: Pool,
  docs: readonly { id: number; hash: string }[],
): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>(
    `UPDATE sluice.documents d SET attempts = d.attempts + 1, updated_at = now()
     FROM unnest($1::bigint[], $2::text[]) AS t(id, hash)
     WHERE d.id = t.id AND d.content_hash = t.hash AND d.status = ANY($3::text[])
     RETURNING d.id`,
    [docs.map((d) => d.id), docs.map((d) => d.hash), [...IN_FLIGHT]],
  );
  return new Set(rows.map((r) => Number(r.id)));
}

/** Failed (or stale) documents among ids, with their reasons, and done documents with their chunk count. */
export async function ingestOutcome(
  pool: Pool,
  ids: number[],
): Promise<{
  done: number;
  chunks: number;
  failures: { id: number; uri: string; code: string | null; message: string | null }[];
}> {
  const failed = await pool.query<{
    id: string;
    uri: string;
    error_code: string | null;
    error_message: string | null;
  }>(
    `SELECT id, uri, error_code, error_message FROM sluice.documents
     WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[]) ORDER BY uri`,
    [ids, [...RETRYABLE]],
  );
  const done = await pool.query<{ n: string; c: string }>(
    `SELECT count(*) AS n, coalesce(sum((SELECT count(*) FROM sluice.chunks c WHERE c.document_id = d.id)), 0) AS c
     FROM sluice.documents d WHERE id = ANY($1::bigint[]) AND status = 'done'`,
    [ids],
  );
  return {
    done: Number(done.rows[0]?.n ?? 0),
    chunks: Number(done.rows[0]?.c ?? 0),
    failures: failed.rows.map((r) => ({
      id: Number(r.id),
      uri: r.uri,
      code: r.error_code,
      message: r.error_message,
    })),
  };
}

/** Documents matched by uri or numeric id, for retry/delete. */
export async function findDocuments(pool: Pool, collection: string, refs: string[]): Promise<DocumentRow[]> {
  const ids = refs.filter((r) => /^\d+$/.test(r)).map(Number);
  const { rows } = await pool.query<DocumentRow>(
    'SELECT * FROM sluice.documents WHERE collection = $1 AND (uri = ANY($2::text[]) OR id = ANY($3::bigint[]))',
    [collection, refs, ids],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Failed (and stale) documents of a collection that can be retried, optionally only those failed with one code. */
export async function failedDocuments(pool: Pool, collection: string, code?: string): Promise<DocumentRow[]> {
  const { rows } = await pool.query<DocumentRow>(
    `SELECT * FROM sluice.documents WHERE collection = $1 AND status = ANY($3::text[]) AND content_hash IS NOT NULL
       AND ($2::text IS NULL OR error_code = $2)`,
    [collection, code ?? null, fromStatuses('retry')],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Re-queues a failed (or stale) document version (retry): resets its error, keeps
 * its hash. False if it is in another status (a deleted one stays deleted).
 */
export async function requeue(pool: Pool, id: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.documents SET status = 'queued', stage = 'extract', error_code = NULL, error_message = NULL,
       attempts = 0, updated_at = now() WHERE id = $1 AND status = ANY($2::text[]) AND content_hash IS NOT NULL`,
    [id, fromStatuses('retry')],
  );
  return (rowCount ?? 0) > 0;
}

// Deletion (the row locks it shares with the load) lives in document-delete.ts.
export { deleteDocuments } from './document-delete.ts';

/** Live documents whose uri starts with `prefix` (a message's attachments), in one collection. */
export async function documentsUnder(
  pool: Pool,
  collection: string,
  prefix: string,
): Promise<{ id: number; uri: string }[]> {
  const { rows } = await pool.query<{ id: string; uri: string }>(
    `SELECT id, uri FROM sluice.documents
     WHERE collection = $1 AND starts_with(uri, $2) AND status <> 'deleted'`,
    [collection, prefix],
  );
  return rows.map((r) => ({ id: Number(r.id), uri: r.uri }));
}

/** Status of a set of documents, for `ingest --wait` progress. */
export async function statusCounts(pool: Pool, ids: number[]): Promise<Record<DocumentStatus, number>> {
  const counts = Object.fromEntries(DOCUMENT_STATUSES.map((s) => [s, 0])) as Record<DocumentStatus, number>;
  const { rows } = await pool.query<{ status: DocumentStatus; n: string }>(
    'SELECT status, count(*) AS n FROM sluice.documents WHERE id = ANY($1::bigint[]) GROUP BY status',
    [ids],
  );
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

/**
 * Documents a generation holds or must build: without `generation`, every
 * document done in the collection (what a re-index starts from); with it, that
 * generation's ledger rows still in flight, with the stage each had reached.
 */
export async function activeDocuments(
  pool: Pool,
  collection: string,
  generation?: number,
): Promise<{ id: number; uri: string; content_hash: string; stage: Stage | null }[]> {
  const { rows } = await pool.query<{ id: string; uri: string; content_hash: string; stage: Stage | null }>(
    generation === undefined
      ? `SELECT id, uri, content_hash, NULL AS stage FROM sluice.documents
         WHERE collection = $1 AND status = 'done' AND content_hash IS NOT NULL ORDER BY id`
      : `SELECT d.id, d.uri, gd.content_hash, gd.stage FROM sluice.generation_documents gd
         JOIN sluice.documents d ON d.id = gd.document_id
         WHERE gd.collection = $1 AND gd.generation = $2 AND gd.status IN ('queued', 'processing') ORDER BY d.id`,
    generation === undefined ? [collection] : [collection, generation],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** The stored version and status of documents by uri, for a dry run to tell unchanged files apart. */
export async function documentVersions(
  pool: Pool,
  collection: string,
  uris: string[],
): Promise<Map<string, { content_hash: string | null; status: DocumentStatus }>> {
  const { rows } = await pool.query<{ uri: string; content_hash: string | null; status: DocumentStatus }>(
    'SELECT uri, content_hash, status FROM sluice.documents WHERE collection = $1 AND uri = ANY($2::text[])',
    [collection, uris],
  );
  return new Map(rows.map((r) => [r.uri, { content_hash: r.content_hash, status: r.status }]));
}

/** In-flight documents of a set per stage (for progress); queued ones count under their next stage. */
export async function stageCounts(pool: Pool, ids: number[]): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ stage: string; n: string }>(
    `SELECT coalesce(stage, 'extract') AS stage, count(*) AS n FROM sluice.documents
     WHERE id = ANY($1::bigint[]) AND status IN ('queued', 'processing') GROUP BY 1`,
    [ids],
  );
  return Object.fromEntries(rows.map((r) => [r.stage, Number(r.n)]));
}

/** How many of a set of documents are failed or stale (earlier failures a re-run did not touch). */
export async function countFailed(pool: Pool, ids: number[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM sluice.documents WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[])`,
    [ids, [...RETRYABLE]],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The configuration error holding some of a set of documents (the embed stage paused), if any. */
export async function configErrorOf(pool: Pool, ids: number[]): Promise<string | undefined> {
  const { rows } = await pool.query<{ msg: string | null }>(
    `SELECT error_message AS msg FROM sluice.documents
     WHERE id = ANY($1::bigint[]) AND status = 'processing' AND error_code = 'CONFIG_ERROR' LIMIT 1`,
    [ids],
  );
  return rows[0]?.msg ?? undefined;
}

/** Whether any document was ever ingested into a collection. */
export async function collectionHasDocuments(pool: Pool, collection: string): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM sluice.documents WHERE collection = $1 LIMIT 1', [
    collection,
  ]);
  return rows.length > 0;
}

/** Failed (and stale) documents in one collection, or in all when `collection` is null. */
export async function failedInCollection(pool: Pool, collection: string | null): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM sluice.documents WHERE status = ANY($2::text[]) AND ($1::text IS NULL OR collection = $1)`,
    [collection, [...RETRYABLE]],
  );
  return Number(rows[0]?.n ?? 0);
}

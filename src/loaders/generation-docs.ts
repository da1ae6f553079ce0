// Per-document progress of a generation that live ingestion does not write: a
// re-index build, or a former active generation kept current for rollback
// (sluice.generation_documents). Every change is guarded by the content hash and
// by the document still being that version at its source, as for documents.
import type { Pool, PoolClient } from '../db/pool.ts';
import type { Stage } from './documents.ts';

/** A pinned-generation job's identity. */
export interface GenerationDocRef {
  collection: string;
  generation: number;
  documentId: number;
  contentHash: string;
}

const KEY = 'collection = $1 AND generation = $2 AND document_id = $3 AND content_hash = $4';
const args = (r: GenerationDocRef) => [r.collection, r.generation, r.documentId, r.contentHash];

/**
 * Marks the document as in a stage of the generation, only if that version is
 * still the one at the source, the generation is not retired and its ledger
 * expects this version.
 */
export async function startGenerationStage(
  pool: Pool,
  r: GenerationDocRef,
  stage: Stage,
  attempt: number,
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.generation_documents gd
     SET status = 'processing', stage = $5, attempts = GREATEST(attempts, $6), updated_at = now()
     WHERE ${KEY} AND status IN ('queued', 'processing')
       AND EXISTS (SELECT 1 FROM sluice.documents d
                   WHERE d.id = gd.document_id AND d.content_hash = gd.content_hash AND d.status <> 'deleted')
       AND EXISTS (SELECT 1 FROM sluice.collection_generations g
                   WHERE g.collection = gd.collection AND g.generation = gd.generation AND g.state <> 'retired')`,
    [...args(r), stage, attempt],
  );
  return rowCount === 1;
}

/**
 * Forgets a ledger row whose version is no longer the document's (edited, or
 * deleted): the build need not wait for it. A newer version that loads live is
 * queued for the generation again (queueFollowUps).
 */
export async function dropStaleGenerationDoc(pool: Pool, r: GenerationDocRef): Promise<void> {
  await pool.query(
    `DELETE FROM sluice.generation_documents gd WHERE ${KEY} AND status <> 'done'
       AND NOT EXISTS (SELECT 1 FROM sluice.documents d
                       WHERE d.id = gd.document_id AND d.content_hash = gd.content_hash AND d.status <> 'deleted')`,
    args(r),
  );
}

/** Whether this version is already loaded into the generation (a re-delivered job). */
export async function generationDocDone(pool: Pool, r: GenerationDocRef): Promise<boolean> {
  const { rowCount } = await pool.query(
    `SELECT 1 FROM sluice.generation_documents WHERE ${KEY} AND status = 'done'`,
    args(r),
  );
  return rowCount === 1;
}

export async function failGenerationDoc(
  pool: Pool,
  r: GenerationDocRef,
  failure: { code: string; message: string; stage: Stage; attempts: number },
): Promise<void> {
  await pool.query(
    `UPDATE sluice.generation_documents SET status = 'failed', stage = $5, error_code = $6, error_message = $7,
       attempts = GREATEST(attempts, $8), updated_at = now() WHERE ${KEY}`,
    [...args(r), failure.stage, failure.code, failure.message.slice(0, 2000), failure.attempts],
  );
}

/** Notes why the document waits (a budget, a configuration error); its status stays processing. */
export async function waitGenerationDoc(
  pool: Pool,
  r: GenerationDocRef,
  code: string,
  message: string,
): Promise<void> {
  await pool.query(
    `UPDATE sluice.generation_documents SET error_code = $5, error_message = $6, updated_at = now()
     WHERE ${KEY} AND status = 'processing'`,
    [...args(r), code, `waiting: ${message}`.slice(0, 2000)],
  );
}

/**
 * Inside a pinned load's transaction: locks the ledger row of this version and
 * says whether the load should go ahead (false: superseded, retired or gone).
 */
export async function claimGenerationLoad(client: PoolClient, r: GenerationDocRef): Promise<boolean> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM sluice.generation_documents gd
     WHERE ${KEY} AND status IN ('queued', 'processing')
       AND EXISTS (SELECT 1 FROM sluice.collection_generations g
                   WHERE g.collection = gd.collection AND g.generation = gd.generation AND g.state <> 'retired')
     FOR UPDATE`,
    args(r),
  );
  return rowCount === 1;
}

export async function finishGenerationLoad(client: PoolClient, r: GenerationDocRef): Promise<void> {
  await client.query(
    `UPDATE sluice.generation_documents SET status = 'done', stage = 'load', error_code = NULL,
       error_message = NULL, updated_at = now() WHERE ${KEY}`,
    args(r),
  );
}

/**
 * Inside a live load's transaction (collection row share-locked): queues this
 * document version for every other generation that is kept current (building,
 * or ready for a switch or a rollback). Returns those generations, to enqueue
 * once the transaction commits. A ready generation with new work is building again.
 */
export async function queueFollowUps(
  client: PoolClient,
  collection: string,
  active: number,
  documentId: number,
  hash: string,
): Promise<number[]> {
  const { rows } = await client.query<{ generation: number }>(
    `INSERT INTO sluice.generation_documents (collection, generation, document_id, content_hash)
     SELECT collection, generation, $3, $4 FROM sluice.collection_generations
     WHERE collection = $1 AND generation <> $2 AND state IN ('building', 'ready')
     ON CONFLICT (collection, generation, document_id) DO UPDATE
       SET content_hash = EXCLUDED.content_hash, status = 'queued', stage = NULL, error_code = NULL,
           error_message = NULL, attempts = 0, updated_at = now()
     WHERE sluice.generation_documents.content_hash IS DISTINCT FROM EXCLUDED.content_hash
        OR sluice.generation_documents.status = 'failed'
     RETURNING generation`,
    [collection, active, documentId, hash],
  );
  const gens = rows.map((r) => r.generation);
  if (gens.length > 0) {
    await client.query(
      `UPDATE sluice.collection_generations SET state = 'building', ready_at = NULL
       WHERE collection = $1 AND generation = ANY($2::int[]) AND state = 'ready'`,
      [collection, gens],
    );
  }
  return gens;
}

/** A ledger row in flight, as the reconciler sees it. */
export interface StaleGenerationDoc {
  collection: string;
  generation: number;
  document_id: string;
  content_hash: string;
  uri: string;
  stage: Stage | null;
  attempts: number;
}

/** Ledger rows queued or processing that nothing has touched for staleMs, oldest first. */
export async function staleGenerationDocs(
  pool: Pool,
  staleMs: number,
  limit: number,
): Promise<StaleGenerationDoc[]> {
  const { rows } = await pool.query<StaleGenerationDoc>(
    `SELECT gd.collection, gd.generation, gd.document_id, gd.content_hash, d.uri, gd.stage, gd.attempts
     FROM sluice.generation_documents gd JOIN sluice.documents d ON d.id = gd.document_id
     WHERE gd.status IN ('queued', 'processing')
       AND gd.updated_at < now() - make_interval(secs => $1::double precision / 1000)
     ORDER BY gd.updated_at LIMIT $2`,
    [staleMs, limit],
  );
  return rows;
}

/** Counts a re-queue against the ledger row (and touches it), if still that version in flight. */
export async function bumpGenerationRequeue(pool: Pool, r: GenerationDocRef): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.generation_documents SET attempts = attempts + 1, updated_at = now()
     WHERE ${KEY} AND status IN ('queued', 'processing')`,
    args(r),
  );
  return rowCount === 1;
}

/** Puts a build's failed documents back in the queue (a resumed `reindex`); the build is building again. */
export async function requeueFailedGenerationDocs(
  pool: Pool,
  collection: string,
  generation: number,
): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.generation_documents SET status = 'queued', stage = NULL, error_code = NULL,
       error_message = NULL, attempts = 0, updated_at = now()
     WHERE collection = $1 AND generation = $2 AND status = 'failed'`,
    [collection, generation],
  );
  if (rowCount) {
    await pool.query(
      `UPDATE sluice.collection_generations SET state = 'building', ready_at = NULL
       WHERE collection = $1 AND generation = $2 AND state = 'ready'`,
      [collection, generation],
    );
  }
  return rowCount ?? 0;
}

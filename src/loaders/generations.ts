// Collection generations: a re-index builds generation N+1 beside the active N
// (sluice.collection_generations + sluice.generation_documents). Reading them,
// creating a build and marking it ready live here; switching in generation-switch.ts.
import { type Pool, type PoolClient, withTransaction } from '../db/pool.ts';
import { SluiceError } from '../errors.ts';
import { type CollectionInfo, HNSW_VECTOR_MAX, indexName } from './pgvector.ts';

export type GenerationState = 'building' | 'ready' | 'active' | 'retired';

export interface GenerationInfo extends CollectionInfo {
  state: GenerationState;
  chunkSize: number;
  chunkOverlap: number;
  /** The width asked of the provider (null: its native width); undefined for rows that predate it. */
  requestDimensions: number | null | undefined;
  indexName: string;
  autoSwitch: boolean;
  budgetTokens: number | null;
  tokensEmbedded: number;
}

type Db = Pick<Pool, 'query'> | PoolClient;

interface GenerationRow {
  collection: string;
  generation: number;
  dimensions: number;
  vector_type: 'vector' | 'halfvec';
  embedder: string;
  model: string;
  state: GenerationState;
  fingerprint: { chunk?: { size?: number; overlap?: number }; requestDimensions?: number | null };
  index_name: string;
  auto_switch: boolean;
  budget_tokens: string | null;
  tokens_embedded: string;
}

function toInfo(r: GenerationRow): GenerationInfo {
  return {
    name: r.collection,
    generation: r.generation,
    dimensions: r.dimensions,
    vectorType: r.vector_type,
    embedder: r.embedder,
    model: r.model,
    state: r.state,
    chunkSize: Number(r.fingerprint.chunk?.size),
    chunkOverlap: Number(r.fingerprint.chunk?.overlap),
    requestDimensions: r.fingerprint.requestDimensions,
    indexName: r.index_name,
    autoSwitch: r.auto_switch,
    budgetTokens: r.budget_tokens === null ? null : Number(r.budget_tokens),
    tokensEmbedded: Number(r.tokens_embedded),
  };
}

const COLUMNS = `g.collection, g.generation, g.dimensions, g.vector_type, g.embedder, g.model, g.state,
  g.fingerprint, g.index_name, g.auto_switch, g.budget_tokens, g.tokens_embedded`;

/** One generation of a collection, or its active one when `generation` is omitted. */
export async function getGeneration(
  db: Db,
  collection: string,
  generation?: number,
): Promise<GenerationInfo | undefined> {
  const { rows } = await db.query<GenerationRow>(
    `SELECT ${COLUMNS} FROM sluice.collection_generations g JOIN sluice.collections c ON c.name = g.collection
     WHERE g.collection = $1 AND g.generation = coalesce($2::int, c.active_generation)`,
    [collection, generation ?? null],
  );
  return rows[0] ? toInfo(rows[0]) : undefined;
}

export interface GenerationSummary extends GenerationInfo {
  active: boolean;
  previous: boolean;
  createdAt: Date;
  documents: { total: number; done: number; pending: number; failed: number; waiting: number };
  chunks: number;
  waitingReason: string | null;
}

/**
 * Every generation (of one collection, or all) with its progress, newest first per
 * collection. `besideActive` keeps only builds and rollback targets (neither active
 * nor retired), so status and the dashboard's polling never count the active
 * generation's chunks, the largest set by far.
 */
export async function listGenerations(
  pool: Pool,
  collection?: string,
  opts: { besideActive?: boolean } = {},
): Promise<GenerationSummary[]> {
  const { rows } = await pool.query<
    GenerationRow & {
      active: boolean;
      previous: boolean;
      created_at: Date;
      chunks: string;
      live_total: string;
      live_done: string;
      live_pending: string;
      live_failed: string;
      g_total: string;
      g_done: string;
      g_pending: string;
      g_failed: string;
      g_waiting: string;
      reason: string | null;
    }
  >(
    `SELECT ${COLUMNS}, g.created_at, g.generation = c.active_generation AS active,
            g.generation = c.previous_generation AS previous,
            (SELECT count(*) FROM sluice.chunks k WHERE k.collection = g.collection AND k.generation = g.generation) AS chunks,
            d.total AS live_total, d.done AS live_done, d.pending AS live_pending, d.failed AS live_failed,
            p.total AS g_total, p.done AS g_done, p.pending AS g_pending, p.failed AS g_failed,
            p.waiting AS g_waiting, p.reason
     FROM sluice.collection_generations g JOIN sluice.collections c ON c.name = g.collection
     CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE status <> 'deleted') AS total, count(*) FILTER (WHERE status = 'done') AS done,
              count(*) FILTER (WHERE status IN ('queued', 'processing')) AS pending,
              count(*) FILTER (WHERE status = 'failed') AS failed
       FROM sluice.documents WHERE collection = g.collection) d
     CROSS JOIN LATERAL (
       SELECT count(*) AS total, count(*) FILTER (WHERE status = 'done') AS done,
              count(*) FILTER (WHERE status IN ('queued', 'processing')) AS pending,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              count(*) FILTER (WHERE status = 'processing' AND error_code IS NOT NULL) AS waiting,
              max(error_message) FILTER (WHERE status = 'processing' AND error_code IS NOT NULL) AS reason
       FROM sluice.generation_documents WHERE collection = g.collection AND generation = g.generation) p
     WHERE ($1::text IS NULL OR g.collection = $1)
       AND ($2::boolean IS NOT TRUE OR (g.generation <> c.active_generation AND g.state <> 'retired'))
     ORDER BY g.collection, g.generation DESC`,
    [collection ?? null, opts.besideActive === true],
  );
  return rows.map((r) => {
    // The active generation's progress is live ingestion's; others have their own ledger.
    const live = r.active;
    return {
      ...toInfo(r),
      active: r.active,
      previous: r.previous,
      createdAt: r.created_at,
      chunks: Number(r.chunks),
      documents: {
        total: Number(live ? r.live_total : r.g_total),
        done: Number(live ? r.live_done : r.g_done),
        pending: Number(live ? r.live_pending : r.g_pending),
        failed: Number(live ? r.live_failed : r.g_failed),
        waiting: live ? 0 : Number(r.g_waiting),
      },
      waitingReason: live ? null : r.reason,
    };
  });
}

export interface NewGeneration {
  collection: string;
  embedder: string;
  model: string;
  dimensions: number;
  fingerprint: Record<string, unknown>;
  autoSwitch: boolean;
  budgetTokens?: number | undefined;
}

/**
 * Creates generation N+1 in state building and lists the documents it must
 * build (every document currently done). The collection row is locked, so a
 * live load either committed before (its document is listed here) or runs
 * after and sees the new generation (and queues its document for it).
 */
export async function createGeneration(
  pool: Pool,
  g: NewGeneration,
): Promise<{ generation: number; documents: { id: number; uri: string; content_hash: string }[] }> {
  return withTransaction(pool, async (client) => {
    const locked = await client.query('SELECT 1 FROM sluice.collections WHERE name = $1 FOR UPDATE', [
      g.collection,
    ]);
    if (locked.rowCount !== 1)
      throw new SluiceError(
        'CONFIG_ERROR',
        `collection "${g.collection}" does not exist: ingest something first`,
      );
    const { rows } = await client.query<{ n: number }>(
      'SELECT coalesce(max(generation), 0) + 1 AS n FROM sluice.collection_generations WHERE collection = $1',
      [g.collection],
    );
    const generation = rows[0]!.n;
    // Checked again under the lock: two `reindex` runs at once must not start two builds.
    const busy = await client.query<{ generation: number }>(
      `SELECT g.generation FROM sluice.collection_generations g JOIN sluice.collections c ON c.name = g.collection
       WHERE g.collection = $1 AND g.state = 'building' AND g.generation <> c.active_generation
         AND g.generation IS DISTINCT FROM c.previous_generation`,
      [g.collection],
    );
    const other = busy.rows[0]?.generation;
    if (other !== undefined) {
      throw new SluiceError(
        'CONFIG_ERROR',
        `generation ${other} of "${g.collection}" is being built with other settings; ` +
          `wait for it, or cancel it with \`sluice retire ${g.collection} ${other}\``,
      );
    }
    await client.query(
      `INSERT INTO sluice.collection_generations
         (collection, generation, fingerprint, embedder, model, dimensions, vector_type, index_name, state,
          auto_switch, budget_tokens)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'building', $9, $10)`,
      [
        g.collection,
        generation,
        JSON.stringify(g.fingerprint),
        g.embedder,
        g.model,
        g.dimensions,
        g.dimensions > HNSW_VECTOR_MAX ? 'halfvec' : 'vector',
        indexName(g.collection, generation),
        g.autoSwitch,
        g.budgetTokens ?? null,
      ],
    );
    const docs = await client.query<{ id: string; uri: string; content_hash: string }>(
      `INSERT INTO sluice.generation_documents (collection, generation, document_id, content_hash)
       SELECT collection, $2, id, content_hash FROM sluice.documents
       WHERE collection = $1 AND status = 'done' AND content_hash IS NOT NULL
       RETURNING document_id AS id, content_hash,
         (SELECT uri FROM sluice.documents d WHERE d.id = document_id) AS uri`,
      [g.collection, generation],
    );
    return { generation, documents: docs.rows.map((r) => ({ ...r, id: Number(r.id) })) };
  });
}

/** Changes a building generation's run budget or auto-switch (a resumed `reindex`). */
export async function updateGeneration(
  pool: Pool,
  collection: string,
  generation: number,
  patch: { budgetTokens?: number | undefined; autoSwitch?: boolean },
): Promise<void> {
  await pool.query(
    `UPDATE sluice.collection_generations SET budget_tokens = coalesce($3, budget_tokens),
       auto_switch = auto_switch OR $4 WHERE collection = $1 AND generation = $2`,
    [collection, generation, patch.budgetTokens ?? null, patch.autoSwitch === true],
  );
  // Documents held by the old budget look again on their own within seconds; until
  // then they are pending, not waiting (so `reindex --wait` waits for them).
  if (patch.budgetTokens !== undefined) {
    await pool.query(
      `UPDATE sluice.generation_documents SET error_code = NULL, error_message = NULL
       WHERE collection = $1 AND generation = $2 AND error_code = 'BUDGET_EXCEEDED'`,
      [collection, generation],
    );
  }
}

/** Marks a building generation ready once none of its documents is queued or processing. */
export async function markReadyIfComplete(
  pool: Pool,
  collection: string,
  generation: number,
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sluice.collection_generations SET state = 'ready', ready_at = now()
     WHERE collection = $1 AND generation = $2 AND state = 'building'
       AND NOT EXISTS (SELECT 1 FROM sluice.generation_documents
                       WHERE collection = $1 AND generation = $2 AND status IN ('queued', 'processing'))`,
    [collection, generation],
  );
  return rowCount === 1;
}

/** Generations (every collection) that are ready and asked to switch by themselves. */
export async function autoSwitchable(pool: Pool): Promise<{ collection: string; generation: number }[]> {
  const { rows } = await pool.query<{ collection: string; generation: number }>(
    `SELECT g.collection, g.generation FROM sluice.collection_generations g
     JOIN sluice.collections c ON c.name = g.collection
     WHERE g.state = 'ready' AND g.auto_switch AND g.generation > c.active_generation`,
  );
  return rows;
}

/** Building generations (every collection), for the maintenance tick's readiness check. */
export async function buildingGenerations(pool: Pool): Promise<{ collection: string; generation: number }[]> {
  const { rows } = await pool.query<{ collection: string; generation: number }>(
    `SELECT collection, generation FROM sluice.collection_generations WHERE state = 'building'`,
  );
  return rows;
}

// Read-only queries for one document's page: its stage runs and its first chunks.
import type { Pool } from '../db/pool.ts';

export interface StageRunRow {
  stage: string;
  outcome: string;
  durationMs: number;
  at: Date;
  contentHash: string;
  detail: Record<string, unknown>;
}

/** The document's stage runs, oldest first (the newest `limit`). */
export async function stageRunsOf(pool: Pool, documentId: number, limit = 200): Promise<StageRunRow[]> {
  const { rows } = await pool.query<{
    stage: string;
    outcome: string;
    duration_ms: number;
    created_at: Date;
    content_hash: string;
    detail: Record<string, unknown>;
  }>(
    `SELECT * FROM (SELECT stage, outcome, duration_ms, created_at, content_hash, detail, id
       FROM sluice.stage_runs WHERE document_id = $1 ORDER BY id DESC LIMIT $2) r ORDER BY id`,
    [documentId, limit],
  );
  return rows.map((r) => ({
    stage: r.stage,
    outcome: r.outcome,
    durationMs: r.duration_ms,
    at: r.created_at,
    contentHash: r.content_hash,
    detail: r.detail,
  }));
}

export interface ChunkPreview {
  ordinal: number;
  text: string;
  tokenCount: number;
  metadata: { page_start?: number; page_end?: number; heading_path?: string[] } & Record<string, unknown>;
}

/** The first chunks of a document in its collection's active generation, text cut to maxChars. */
export async function firstChunks(
  pool: Pool,
  documentId: number,
  opts: { limit: number; maxChars: number },
): Promise<{ total: number; chunks: ChunkPreview[] }> {
  const { rows } = await pool.query<{
    ordinal: number;
    text: string;
    token_count: number;
    metadata: ChunkPreview['metadata'];
    total: string;
  }>(
    `SELECT c.ordinal, left(c.text, $3) AS text, c.token_count, c.metadata, count(*) OVER () AS total
     FROM sluice.chunks c JOIN sluice.collections k ON k.name = c.collection
     WHERE c.document_id = $1 AND c.generation = k.active_generation
     ORDER BY c.ordinal LIMIT $2`,
    [documentId, opts.limit, opts.maxChars],
  );
  return {
    total: Number(rows[0]?.total ?? 0),
    chunks: rows.map((r) => ({
      ordinal: r.ordinal,
      text: r.text,
      tokenCount: r.token_count,
      metadata: r.metadata,
    })),
  };
}

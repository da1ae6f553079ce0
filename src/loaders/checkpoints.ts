// Stage outputs in Postgres: each stage stores what it made, keyed by content
// hash and the settings that made it, before the next stage is enqueued. A
// re-delivered job finds its output here and skips straight ahead.
import { type Pool, withTransaction } from '../db/pool.ts';
import type { ExtractedDocument, Section } from '../extractors/types.ts';
import type { Chunk } from '../transforms/chunk.ts';
import { CopyWriter, copyIn, encodeVector } from './copy.ts';

export interface StoredExtraction extends ExtractedDocument {
  mime: string;
}

export async function getExtraction(
  pool: Pool,
  hash: string,
  fingerprint: string,
): Promise<StoredExtraction | undefined> {
  const { rows } = await pool.query<{
    mime: string;
    title: string | null;
    metadata: Record<string, unknown>;
    sections: Section[];
  }>(
    'SELECT mime, title, metadata, sections FROM sluice.extractions WHERE content_hash = $1 AND fingerprint = $2',
    [hash, fingerprint],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    mime: r.mime,
    metadata: r.metadata,
    sections: r.sections,
    ...(r.title === null ? {} : { title: r.title }),
  };
}

/** The document-level part of a stored extraction (no sections), for checkpoint skips. */
export async function getExtractionHead(
  pool: Pool,
  hash: string,
  fingerprint: string,
): Promise<{ mime: string; title: string | null; metadata: Record<string, unknown> } | undefined> {
  const { rows } = await pool.query<{
    mime: string;
    title: string | null;
    metadata: Record<string, unknown>;
  }>('SELECT mime, title, metadata FROM sluice.extractions WHERE content_hash = $1 AND fingerprint = $2', [
    hash,
    fingerprint,
  ]);
  return rows[0];
}

export async function putExtraction(
  pool: Pool,
  hash: string,
  fingerprint: string,
  doc: StoredExtraction,
): Promise<void> {
  await pool.query(
    `INSERT INTO sluice.extractions (content_hash, fingerprint, mime, title, metadata, sections)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [
      hash,
      fingerprint,
      doc.mime,
      doc.title ?? null,
      JSON.stringify(doc.metadata),
      JSON.stringify(doc.sections),
    ],
  );
}

export async function getChunkSet(
  pool: Pool,
  hash: string,
  fingerprint: string,
): Promise<Chunk[] | undefined> {
  const { rows } = await pool.query<{ chunks: Chunk[] }>(
    'SELECT chunks FROM sluice.chunk_sets WHERE content_hash = $1 AND fingerprint = $2',
    [hash, fingerprint],
  );
  return rows[0]?.chunks;
}

export async function hasChunkSet(pool: Pool, hash: string, fingerprint: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'SELECT 1 FROM sluice.chunk_sets WHERE content_hash = $1 AND fingerprint = $2',
    [hash, fingerprint],
  );
  return rowCount === 1;
}

export async function putChunkSet(
  pool: Pool,
  hash: string,
  fingerprint: string,
  chunks: Chunk[],
): Promise<void> {
  await pool.query(
    'INSERT INTO sluice.chunk_sets (content_hash, fingerprint, chunks) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [hash, fingerprint, JSON.stringify(chunks)],
  );
}

/** Which of these text hashes have no cached vector for the model yet. */
export async function missingEmbeddings(
  pool: Pool,
  modelKey: string,
  hashes: string[],
): Promise<Set<string>> {
  const unique = [...new Set(hashes)];
  const { rows } = await pool.query<{ h: string }>(
    `SELECT h FROM unnest($2::text[]) AS h
     WHERE NOT EXISTS (SELECT 1 FROM sluice.embedding_cache c WHERE c.model_key = $1 AND c.text_hash = h)`,
    [modelKey, unique],
  );
  return new Set(rows.map((r) => r.h));
}

/** Stores vectors in the cache; concurrent writers of the same text are harmless. */
export async function putEmbeddings(
  pool: Pool,
  modelKey: string,
  entries: { hash: string; vector: ArrayLike<number> }[],
): Promise<void> {
  if (entries.length === 0) return;
  // Binary COPY into a per-connection staging table, then one INSERT: vectors
  // never take a float→text→float round trip, and duplicates resolve in SQL.
  const writer = new CopyWriter();
  for (const e of entries)
    writer.row([
      { t: 'text', v: e.hash },
      { t: 'raw', v: encodeVector(e.vector) },
    ]);
  await withTransaction(pool, async (client) => {
    await client.query(
      'CREATE TEMP TABLE IF NOT EXISTS sluice_emb_stage (h text, v vector) ON COMMIT DELETE ROWS',
    );
    await copyIn(client, 'COPY sluice_emb_stage (h, v) FROM STDIN (FORMAT binary)', writer);
    await client.query(
      `INSERT INTO sluice.embedding_cache (model_key, text_hash, embedding)
       SELECT DISTINCT ON (h) $1, h, v FROM sluice_emb_stage ON CONFLICT DO NOTHING`,
      [modelKey],
    );
  });
}

/** Cached vectors in pgvector binary form, keyed by text hash. */
export async function getEmbeddingsBinary(
  pool: Pool,
  modelKey: string,
  hashes: string[],
): Promise<Map<string, Buffer>> {
  const { rows } = await pool.query<{ text_hash: string; v: Buffer }>(
    `SELECT text_hash, vector_send(embedding) AS v FROM sluice.embedding_cache
     WHERE model_key = $1 AND text_hash = ANY($2::text[])`,
    [modelKey, [...new Set(hashes)]],
  );
  return new Map(rows.map((r) => [r.text_hash, r.v]));
}

export async function recordStageRun(
  pool: Pool,
  run: {
    documentId: number;
    hash: string;
    stage: string;
    outcome: 'done' | 'skipped' | 'failed';
    ms: number;
    detail?: object;
    /** The generation a build job worked for; undefined for live ingestion. */
    generation?: number | undefined;
  },
): Promise<void> {
  await pool.query(
    `INSERT INTO sluice.stage_runs (document_id, content_hash, stage, outcome, duration_ms, detail, generation)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      run.documentId,
      run.hash,
      run.stage,
      run.outcome,
      Math.round(run.ms),
      JSON.stringify(run.detail ?? {}),
      run.generation ?? null,
    ],
  );
}

export async function bumpCounters(pool: Pool, deltas: Record<string, number>): Promise<void> {
  const names = Object.keys(deltas).filter((k) => deltas[k] !== 0);
  if (names.length === 0) return;
  await pool.query(
    `INSERT INTO sluice.counters (name, value) SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (name) DO UPDATE SET value = sluice.counters.value + EXCLUDED.value`,
    [names, names.map((n) => deltas[n])],
  );
}

export async function readCounters(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ name: string; value: string }>(
    'SELECT name, value FROM sluice.counters',
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.value)]));
}

// The pgvector sink: collections and their vector indexes, the atomic swap of a
// document's chunks, and similarity search. Only this folder writes chunks.
import { type Pool, type PoolClient, withTransaction } from '../db/pool.ts';
import { SluiceError } from '../errors.ts';
import type { Chunk } from '../transforms/chunk.ts';
import { CopyWriter, copyIn, vectorDims } from './copy.ts';
import { canChange, SERVED } from './document-state.ts';
import { claimGenerationLoad, finishGenerationLoad, queueFollowUps } from './generation-docs.ts';

/** pgvector's HNSW limit for `vector`; wider vectors are indexed as `halfvec` (≤ 4,000). */
export const HNSW_VECTOR_MAX = 2000;

export interface CollectionInfo {
  name: string;
  generation: number;
  dimensions: number;
  vectorType: 'vector' | 'halfvec';
  embedder: string;
  model: string;
}

export interface CollectionSpec {
  name: string;
  embedder: string;
  model: string;
  dimensions: number;
  fingerprint: Record<string, unknown>;
}

export function indexName(collection: string, generation: number): string {
  const safe = collection
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30);
  let h = 0;
  for (const ch of collection) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return `chunks_hnsw_${safe}_g${generation}_${h.toString(16)}`;
}

/** SQL literal for a validated collection name (config restricts it to [A-Za-z0-9_.-]). */
export function literal(s: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(s))
    throw new SluiceError('CONFIG_ERROR', `invalid collection name ${JSON.stringify(s)}`);
  return `'${s}'`;
}

/** The cast used by both the index and searches; they must match for the index to be used. */
export function vectorCast(info: Pick<CollectionInfo, 'dimensions' | 'vectorType'>): string {
  return `${info.vectorType}(${info.dimensions})`;
}

/**
 * Returns the collection's active generation, creating the collection and its
 * HNSW index on first use. A different embedder, model or width is an error,
 * never a silent mix of vector spaces.
 */
export async function ensureCollection(pool: Pool, spec: CollectionSpec): Promise<CollectionInfo> {
  literal(spec.name);
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sluice.collection:${spec.name}`]);
    await client.query('INSERT INTO sluice.collections (name) VALUES ($1) ON CONFLICT DO NOTHING', [
      spec.name,
    ]);
    const found = await getCollection(client, spec.name);
    if (found) {
      // The configured embedder must be one the collection is kept in: its active
      // generation, or one being built or kept beside it (workers build each
      // generation with its own stored settings, whatever they are configured with).
      const { rowCount } = await client.query(
        `SELECT 1 FROM sluice.collection_generations WHERE collection = $1 AND state <> 'retired'
           AND embedder = $2 AND model = $3 AND dimensions = $4`,
        [spec.name, spec.embedder, spec.model, spec.dimensions],
      );
      if (rowCount === 0) {
        throw new SluiceError(
          'DIMENSION_MISMATCH',
          `collection "${spec.name}" holds ${found.dimensions}-d vectors from ${found.embedder}/${found.model}, ` +
            `but the configured embedder is ${spec.embedder}/${spec.model} with ${spec.dimensions} dimensions. ` +
            `Run \`sluice reindex --collection ${spec.name}\` to rebuild it with these settings, use another ` +
            'collection (--collection), or restore the original embedder settings.',
        );
      }
      return found;
    }
    const vectorType = spec.dimensions > HNSW_VECTOR_MAX ? 'halfvec' : 'vector';
    const info: CollectionInfo = { ...spec, generation: 1, vectorType };
    const index = indexName(spec.name, 1);
    await client.query(
      `INSERT INTO sluice.collection_generations
         (collection, generation, fingerprint, embedder, model, dimensions, vector_type, index_name)
       VALUES ($1, 1, $2, $3, $4, $5, $6, $7)`,
      [
        spec.name,
        JSON.stringify(spec.fingerprint),
        spec.embedder,
        spec.model,
        spec.dimensions,
        vectorType,
        index,
      ],
    );
    // The HNSW index is built later, once the collection is idle (buildMissingIndexes):
    // inserting into an existing HNSW graph costs far more per row than building it
    // once over loaded rows (pgvector's own advice), and searches are exact meanwhile.
    return info;
  });
}

// HNSW index builds live in indexes.ts; re-exported for existing importers.
export {
  buildMissingIndexes,
  ensureGenerationIndex,
  HNSW_HALFVEC_MAX,
  INDEX_BUSY_THRESHOLD,
  type IndexOutcome,
} from './indexes.ts';

/** moved: a live load found another generation active than the one it was built for. */
export type LoadOutcome = 'loaded' | 'superseded' | 'moved';

export interface LoadResult {
  outcome: LoadOutcome;
  /** Other generations this version was queued for (live loads), to enqueue after the commit. */
  followUps: number[];
}

/**
 * Replaces a document's chunks in one generation in one transaction: delete the
 * old version's rows, binary-COPY the new ones, mark the document done. Readers
 * see either the old set or the new one, never a mix. A job for a version that
 * is no longer current changes nothing ('superseded'). A live load writes the
 * active generation (share-locking the collection row, so a switch waits for
 * it) and queues the version for the generations kept beside it; a `pinned`
 * load writes its own generation and ticks off its ledger row.
 */
export async function replaceChunks(
  pool: Pool,
  input: {
    documentId: number;
    hash: string;
    collection: CollectionInfo;
    chunks: Chunk[];
    vectors: Map<string, Buffer>;
    pinned?: boolean;
  },
): Promise<LoadResult> {
  const { documentId, hash, collection, chunks, vectors } = input;
  const pinned = input.pinned === true;
  const ref = {
    collection: collection.name,
    generation: collection.generation,
    documentId,
    contentHash: hash,
  };
  const writer = new CopyWriter();
  for (const chunk of chunks) {
    const vector = vectors.get(chunk.contentHash);
    if (!vector)
      throw new SluiceError('INTERNAL', `no cached embedding for chunk ${chunk.ordinal}`, {
        retryable: true,
      });
    if (vectorDims(vector) !== collection.dimensions) {
      throw new SluiceError(
        'DIMENSION_MISMATCH',
        `embedding has ${vectorDims(vector)} dimensions, collection "${collection.name}" expects ${collection.dimensions}`,
      );
    }
    writer.row([
      { t: 'int8', v: documentId },
      { t: 'text', v: collection.name },
      { t: 'int4', v: collection.generation },
      { t: 'int4', v: chunk.ordinal },
      { t: 'text', v: chunk.text },
      { t: 'text', v: chunk.contentHash },
      { t: 'int4', v: chunk.tokenCount },
      { t: 'jsonb', v: chunkMetadata(chunk) },
      { t: 'raw', v: vector },
    ]);
  }
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ content_hash: string | null; status: string }>(
      'SELECT content_hash, status FROM sluice.documents WHERE id = $1 FOR UPDATE',
      [documentId],
    );
    const doc = rows[0];
    const superseded: LoadResult = { outcome: 'superseded', followUps: [] };
    if (!doc || doc.content_hash !== hash || doc.status === 'deleted') return superseded;
    if (pinned) {
      if (!(await claimGenerationLoad(client, ref))) return superseded;
    } else {
      // Only a version in flight becomes done: never one failed, stale or done meanwhile.
      if (!canChange('load', doc.status)) return superseded;
      const active = await client.query<{ g: number }>(
        'SELECT active_generation AS g FROM sluice.collections WHERE name = $1 FOR SHARE',
        [collection.name],
      );
      if (active.rows[0]?.g !== collection.generation) return { outcome: 'moved', followUps: [] };
    }
    await client.query('DELETE FROM sluice.chunks WHERE document_id = $1 AND generation = $2', [
      documentId,
      collection.generation,
    ]);
    await copyIn(
      client,
      `COPY sluice.chunks (document_id, collection, generation, ordinal, text, content_hash, token_count, metadata, embedding)
       FROM STDIN (FORMAT binary)`,
      writer,
    );
    if (pinned) {
      await finishGenerationLoad(client, ref);
      return { outcome: 'loaded', followUps: [] };
    }
    await client.query(
      `UPDATE sluice.documents SET status = 'done', stage = 'load', indexed_hash = $2, indexed_at = now(),
         error_code = NULL, error_message = NULL, updated_at = now() WHERE id = $1`,
      [documentId, hash],
    );
    const followUps = await queueFollowUps(client, collection.name, collection.generation, documentId, hash);
    return { outcome: 'loaded', followUps };
  });
}

/** Chunk metadata as stored: snake_case keys users query with SQL. */
function chunkMetadata(chunk: Chunk): Record<string, unknown> {
  const m = chunk.metadata;
  return {
    ...m.extra, // section facts (ocr, e-mail headers) never override the keys below
    char_start: m.charStart,
    char_end: m.charEnd,
    heading_path: m.headingPath,
    ...(m.pageStart === undefined ? {} : { page_start: m.pageStart, page_end: m.pageEnd ?? m.pageStart }),
    ...(m.rowStart === undefined ? {} : { row_start: m.rowStart, row_end: m.rowEnd ?? m.rowStart }),
    ...(m.embedContext === undefined ? {} : { embed_context: m.embedContext }),
  };
}

export interface SearchHit {
  chunkId: number;
  documentId: number;
  uri: string;
  title: string | null;
  ordinal: number;
  text: string;
  score: number;
  metadata: Record<string, unknown>;
}

/**
 * Cosine similarity search over the collection's active generation, among
 * documents whose status is served (document-state.ts SERVED): never chunks of a
 * failed or deleted document, whatever a row still holds.
 */
export async function searchChunks(
  pool: Pool,
  collection: CollectionInfo,
  queryVector: ArrayLike<number>,
  k: number,
): Promise<SearchHit[]> {
  const cast = vectorCast(collection);
  const { rows } = await pool.query<{
    id: string;
    document_id: string;
    uri: string;
    title: string | null;
    ordinal: number;
    text: string;
    distance: number;
    metadata: Record<string, unknown>;
  }>(
    `SELECT c.id, c.document_id, d.uri, d.title, c.ordinal, c.text, c.metadata,
            c.embedding::${cast} <=> $1::${cast} AS distance
     FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id
     WHERE c.collection = ${literal(collection.name)} AND c.generation = ${collection.generation}
       AND d.status = ANY($3::text[])
     ORDER BY c.embedding::${cast} <=> $1::${cast}
     LIMIT $2`,
    [`[${Array.from(queryVector).join(',')}]`, k, [...SERVED]],
  );
  return rows.map((r) => ({
    chunkId: Number(r.id),
    documentId: Number(r.document_id),
    uri: r.uri,
    title: r.title,
    ordinal: r.ordinal,
    text: r.text,
    score: 1 - Number(r.distance),
    metadata: r.metadata,
  }));
}

/** The active generation of an existing collection, or undefined. */
export async function getCollection(
  db: Pick<Pool, 'query'> | PoolClient,
  name: string,
): Promise<CollectionInfo | undefined> {
  const { rows } = await db.query<{
    generation: number;
    dimensions: number;
    vector_type: 'vector' | 'halfvec';
    embedder: string;
    model: string;
  }>(
    `SELECT g.generation, g.dimensions, g.vector_type, g.embedder, g.model
     FROM sluice.collections c JOIN sluice.collection_generations g
       ON g.collection = c.name AND g.generation = c.active_generation WHERE c.name = $1`,
    [name],
  );
  const r = rows[0];
  return r
    ? {
        name,
        generation: r.generation,
        dimensions: r.dimensions,
        vectorType: r.vector_type,
        embedder: r.embedder,
        model: r.model,
      }
    : undefined;
}

/** Up to n chunk texts of a generation, spread over the collection (stable order), for sample queries. */
export async function sampleChunkTexts(pool: Pool, info: CollectionInfo, n: number): Promise<string[]> {
  const { rows } = await pool.query<{ text: string }>(
    `SELECT text FROM sluice.chunks WHERE collection = $1 AND generation = $2 ORDER BY md5(id::text) LIMIT $3`,
    [info.name, info.generation, n],
  );
  return rows.map((r) => r.text);
}

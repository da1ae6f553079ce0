// The database limit for sluice's load stage: take the final rows sluice wrote
// (text, metadata, vectors, as they sit in sluice.chunks) and raw-binary-COPY
// them into an identical table (LIKE sluice.chunks INCLUDING ALL: same columns,
// defaults, identity and the HNSW index). Three ways, each on a fresh table:
//   - bulk: one COPY of every row in one transaction (the ceiling);
//   - perDocument: one transaction + COPY per document, the granularity sluice
//     must keep (a document's chunks swap atomically) — isolates what that costs;
//   - noIndex: bulk into a table without indexes — isolates the HNSW cost;
//   - indexAfter: noIndex plus one HNSW build over the loaded rows afterwards.
// Row encoding uses sluice's own CopyWriter and is timed apart from the COPY.
// Last, the load stage itself is replayed on the same rows (see loadReplay).
import type { Pool, PoolClient } from '../src/db/pool.ts';
import { getChunkSet, getEmbeddingsBinary } from '../src/loaders/checkpoints.ts';
import { CopyWriter, copyIn } from '../src/loaders/copy.ts';
import { getCollection, replaceChunks } from '../src/loaders/pgvector.ts';

export interface CopyRun {
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSec: number;
  mbPerSec: number;
}

export interface CopyLimitResult {
  encodeSeconds: number;
  /** sluice's load stage body (runLoad: read checkpoints, replaceChunks) replayed for every document, one at a time. */
  loadReplay: CopyRun;
  bulk: CopyRun;
  perDocument: CopyRun;
  noIndex: CopyRun;
  /** noIndex, then the same HNSW index built once over the loaded rows (time includes both). */
  indexAfter: CopyRun & { buildSeconds: number };
}

interface Row {
  document_id: string;
  collection: string;
  generation: number;
  ordinal: number;
  text: string;
  content_hash: string;
  token_count: number;
  metadata: string;
  v: Buffer;
}

const COLUMNS =
  'document_id, collection, generation, ordinal, text, content_hash, token_count, metadata, embedding';
const TABLE = 'public.bench_copy_limit';

function encode(rows: Row[]): CopyWriter {
  const w = new CopyWriter();
  for (const r of rows) {
    w.row([
      { t: 'int8', v: Number(r.document_id) },
      { t: 'text', v: r.collection },
      { t: 'int4', v: r.generation },
      { t: 'int4', v: r.ordinal },
      { t: 'text', v: r.text },
      { t: 'text', v: r.content_hash },
      { t: 'int4', v: r.token_count },
      { t: 'jsonb', v: JSON.parse(r.metadata) as unknown },
      { t: 'raw', v: r.v },
    ]);
  }
  return w;
}

async function freshTable(client: PoolClient, withIndexes: boolean): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.query(
    withIndexes
      ? `CREATE TABLE ${TABLE} (LIKE sluice.chunks INCLUDING ALL)`
      : `CREATE TABLE ${TABLE} (LIKE sluice.chunks INCLUDING DEFAULTS INCLUDING IDENTITY)`,
  );
}

function run(rows: number, bytes: number, seconds: number): CopyRun {
  return { rows, bytes, seconds, rowsPerSec: rows / seconds, mbPerSec: bytes / 1e6 / seconds };
}

async function timedCopy(client: PoolClient, writers: CopyWriter[]): Promise<number> {
  const t0 = performance.now();
  const sql = `COPY ${TABLE} (${COLUMNS}) FROM STDIN (FORMAT binary)`;
  if (writers.length === 1) {
    await client.query('BEGIN');
    await copyIn(client, sql, writers[0]!);
    await client.query('COMMIT');
  } else {
    for (const w of writers) {
      await client.query('BEGIN');
      await copyIn(client, sql, w);
      await client.query('COMMIT');
    }
  }
  return (performance.now() - t0) / 1000;
}

/**
 * Replays the load stage's work (src/queue/stages/load.ts: chunk set and vectors
 * from the checkpoints, then replaceChunks) for every done document, one after
 * another, outside the queue: the stage's own rate, without queue waits or
 * contention with the other stages.
 */
async function loadReplay(pool: Pool, bytes: number, every: number): Promise<CopyRun> {
  const collection = await getCollection(pool, 'default');
  const fp = await pool.query<{ f: string }>('SELECT DISTINCT fingerprint AS f FROM sluice.chunk_sets');
  const mk = await pool.query<{ k: string }>('SELECT DISTINCT model_key AS k FROM sluice.embedding_cache');
  const fingerprint = fp.rows[0]?.f;
  const modelKey = mk.rows[0]?.k;
  if (!collection || !fingerprint || !modelKey || fp.rows.length > 1 || mk.rows.length > 1)
    throw new Error('load replay needs one collection, chunk fingerprint and model');
  const docs = await pool.query<{ id: string; h: string }>(
    `SELECT id, content_hash AS h FROM sluice.documents WHERE status = 'done' AND id % $1 = 0 ORDER BY id`,
    [every],
  );
  let rows = 0;
  const t0 = performance.now();
  for (const d of docs.rows) {
    const chunks = (await getChunkSet(pool, d.h, fingerprint)) ?? [];
    const hashes = chunks.map((c) => c.contentHash);
    const vectors = await getEmbeddingsBinary(pool, modelKey, hashes);
    await replaceChunks(pool, { documentId: Number(d.id), hash: d.h, collection, chunks, vectors });
    rows += chunks.length;
  }
  return run(rows, bytes, (performance.now() - t0) / 1000);
}

/**
 * Measures raw binary COPY of the rows now in sluice.chunks of every `every`-th
 * document (by id; all with 1), then replays the load stage on the same
 * documents. Drops its table afterwards.
 */
export async function measureCopyLimit(pool: Pool, every = 1): Promise<CopyLimitResult> {
  const { rows } = await pool.query<Row>(
    `SELECT document_id, collection, generation, ordinal, text, content_hash, token_count,
            metadata::text AS metadata, vector_send(embedding) AS v
     FROM sluice.chunks WHERE document_id % $1 = 0 ORDER BY document_id, ordinal`,
    [every],
  );
  const t0 = performance.now();
  const all = encode(rows);
  const encodeSeconds = (performance.now() - t0) / 1000;
  const byDoc = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byDoc.get(r.document_id) ?? [];
    list.push(r);
    byDoc.set(r.document_id, list);
  }
  const perDoc = [...byDoc.values()].map(encode);
  // finish() appends the trailer: take sizes first.
  const bytes = all.byteLength;
  let client: PoolClient | undefined = await pool.connect();
  try {
    await freshTable(client, true);
    const bulk = run(rows.length, bytes, await timedCopy(client, [all]));
    await freshTable(client, true);
    const perDocument = run(rows.length, bytes, await timedCopy(client, perDoc));
    await freshTable(client, false);
    const again = encode(rows); // a CopyWriter is spent once finished
    const noIndex = run(rows.length, bytes, await timedCopy(client, [again]));
    const dims = rows[0] ? rows[0].v.readInt16BE(0) : 1;
    const t1 = performance.now();
    await client.query(
      `CREATE INDEX ON ${TABLE} USING hnsw ((embedding::vector(${dims})) vector_cosine_ops)`,
    );
    const buildSeconds = (performance.now() - t1) / 1000;
    const indexAfter = { ...run(rows.length, bytes, noIndex.seconds + buildSeconds), buildSeconds };
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    client.release();
    client = undefined;
    // Into an empty graph, as the COPYs above: TRUNCATE empties the HNSW index too
    // (re-inserting vectors already in it would flatter the replay). This spends
    // the scenario's database; it is not used afterwards.
    await pool.query('TRUNCATE sluice.chunks');
    // The replay takes connections from the pool itself: only after ours is back.
    const replay = await loadReplay(pool, bytes, every);
    return { encodeSeconds, loadReplay: replay, bulk, perDocument, noIndex, indexAfter };
  } finally {
    await client?.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    client?.release();
  }
}

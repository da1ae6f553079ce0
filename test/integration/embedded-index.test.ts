// HNSW on the embedded database: below the size threshold a generation has no
// index and is searched exactly; above it the index is built in one statement;
// search answers the same either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import {
  buildMissingIndexes,
  type CollectionInfo,
  ensureCollection,
  searchChunks,
} from '../../src/loaders/pgvector.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';

let home: TempHome;
let pool: Pool;
let collection: CollectionInfo;

beforeAll(async () => {
  home = await tempHome('index');
  pool = createPool(home.url, { max: 4 });
  await migrate(pool);
  collection = await ensureCollection(pool, {
    name: 'idx',
    embedder: 'test',
    model: 'm',
    dimensions: 3,
    fingerprint: {},
  });
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO sluice.documents (collection, uri, content_hash, bytes, status)
     VALUES ('idx', '/doc', 'h', 1, 'done') RETURNING id`,
  );
  await pool.query(
    `INSERT INTO sluice.chunks (document_id, collection, generation, ordinal, text, content_hash, token_count, metadata, embedding)
     SELECT $1, 'idx', $2, g, 'chunk ' || g, 'c' || g, 1, '{}', ('[' || cos(g) || ',' || sin(g) || ',0.5]')::vector
     FROM generate_series(0, 59) g`,
    [rows[0]!.id, collection.generation],
  );
});

afterAll(async () => {
  await pool?.end();
  await home?.remove();
});

const key = () => `idx#${collection.generation}`;
const top = async () =>
  (await searchChunks(pool, collection, [Math.cos(7), Math.sin(7), 0.5], 3)).map((h) => h.text);
const indexCount = async () =>
  (
    await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'sluice' AND indexname LIKE 'chunks_hnsw_idx%'`,
    )
  ).rows[0]!.n;

describe('vector index on the embedded database', () => {
  it('is not built below the threshold, and exact search finds the nearest chunk', async () => {
    expect(await buildMissingIndexes(pool)).toEqual({ [key()]: 'small' });
    expect(await indexCount()).toBe(0);
    expect((await top())[0]).toBe('chunk 7');
  });

  it('is built above it, and search answers the same', async () => {
    const exact = await top();
    expect(await buildMissingIndexes(pool, { embeddedThreshold: 50 })).toEqual({ [key()]: 'built' });
    expect(await indexCount()).toBe(1);
    expect(await buildMissingIndexes(pool, { embeddedThreshold: 50 })).toEqual({ [key()]: 'exists' });
    expect(await top()).toEqual(exact);
  });
});

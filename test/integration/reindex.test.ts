// Issue 14 acceptance 1: a collection at generation 1 (hash embedder, 384 dims)
// is re-indexed at 256 dims while a reader searches in a loop and documents are
// edited, deleted and added. Every search during the build reads generation 1;
// after `switch` generation 2; `rollback` returns to 1; widths are right; both
// generations end with the same, current chunks. Then `retire` drops one.
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmbeddedPool } from '../../src/db/embedded/pool.ts';
import { deleteDocuments } from '../../src/loaders/documents.ts';
import { retireGeneration } from '../../src/loaders/generation-switch.ts';
import { listGenerations } from '../../src/loaders/generations.ts';
import { searchChunks } from '../../src/loaders/pgvector.ts';
import { switchTo } from '../../src/queue/generations.ts';
import { waitForDocuments } from '../../src/queue/producer.ts';
import { startReindex, waitForBuild } from '../../src/queue/reindex.ts';
import { copyTextFixtures } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

let p: TestPipeline;
let docs: ReturnType<typeof copyTextFixtures>;

beforeAll(async () => {
  docs = copyTextFixtures();
  p = await startPipeline({ label: 'reindex' });
  await p.ingestAndWait([docs.dir]);
});

afterAll(async () => {
  await p?.close();
  docs?.cleanup();
});

interface Observed {
  generation: number;
  /** Generation and width of every hit, read back right after the search. */
  hits: { generation: number; dims: number }[];
}

/** One search as `sluice search` does it: active generation, its embedder, its chunks. */
async function search(query: string): Promise<Observed> {
  const { pipeline, generation } = await p.rt.pipelineFor({ collection: 'default' });
  const [vector] = await pipeline.embedder.embed([query]);
  const hits = await searchChunks(p.rt.pool, generation, vector!, 5);
  const rows = await p.query<{ generation: number; dims: number }>(
    'SELECT generation, vector_dims(embedding) AS dims FROM sluice.chunks WHERE id = ANY($1::bigint[])',
    [hits.map((h) => h.chunkId)],
  );
  return { generation: generation.generation, hits: rows };
}

/** Searches in a loop until stopped; returns everything it saw. */
function startReader(query: string) {
  const seen: Observed[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) seen.push(await search(query));
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await done;
      return seen;
    },
  };
}

/** On the embedded database generations this small get no index (searched exactly). */
function embedded(): boolean {
  return isEmbeddedPool(p.rt.pool);
}

/** A switched-to generation has a valid HNSW index on a server, none on the embedded database. */
async function expectIndexAsServed(generation: number): Promise<void> {
  const [index] = await p.query<{ valid: boolean }>(
    `SELECT i.indisvalid AS valid FROM sluice.collection_generations g
     JOIN pg_class c ON c.relname = g.index_name JOIN pg_index i ON i.indexrelid = c.oid
     WHERE g.collection = 'default' AND g.generation = $1`,
    [generation],
  );
  expect(index).toEqual(embedded() ? undefined : { valid: true });
}

/** Per document uri: its chunk text hashes in order, in one generation. */
async function chunksOf(generation: number): Promise<Map<string, string>> {
  const rows = await p.query<{ uri: string; h: string }>(
    `SELECT d.uri, string_agg(c.content_hash, ',' ORDER BY c.ordinal) AS h
     FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id
     WHERE c.generation = $1 GROUP BY d.uri`,
    [generation],
  );
  return new Map(rows.map((r) => [r.uri, r.h]));
}

describe('re-index 384 → 256 dims while searching, editing and deleting', () => {
  it('serves generation 1 throughout the build, then 2 after switch, 1 after rollback', async () => {
    const edited = docs.files.find((f) => f.endsWith('.md'))!;
    const deleted = docs.files.find((f) => f.endsWith('.txt'))!;
    const added = join(docs.dir, 'added-during-build.md');
    const reader = startReader('language text document');
    await waitUntil('a first search', async () => reader.seen.length > 0);

    const started = await startReindex(p.rt, {
      collection: 'default',
      target: { ...p.config, embedDimensions: 256 },
    });
    expect(started).toMatchObject({ generation: 2, from: 1, resumed: false });
    expect(started.documents).toBe(docs.files.length);

    // Live changes while generation 2 is being built.
    appendFileSync(edited, '\n\n## Added during the rebuild\n\nzanzibar quokka marmalade\n');
    writeFileSync(added, '# Added\n\nA new document: xylophone quince.\n');
    const live = await p.ingest([docs.dir]);
    expect(live.queued).toBe(2);
    const [gone] = await p.query<{ id: string }>('SELECT id FROM sluice.documents WHERE uri = $1', [deleted]);
    await deleteDocuments(p.rt.pool, [Number(gone!.id)]);
    rmSync(deleted);
    const waited = await waitForDocuments(p.rt, live.waitIds, { timeoutMs: 60_000, intervalMs: 100 });
    expect(waited).toMatchObject({ pending: 0, failed: 0 });

    const built = await waitForBuild(p.rt, 'default', 2, { timeoutMs: 120_000 });
    expect(built.summary).toMatchObject({ state: 'ready', active: false });
    const during = await reader.stop();
    expect(during.length).toBeGreaterThan(3);
    for (const s of during) {
      expect(s.generation).toBe(1);
      for (const h of s.hits) expect(h).toEqual({ generation: 1, dims: 384 });
    }

    // Both generations hold the same, current chunks: the edit, the addition, not the deletion.
    const g1 = await chunksOf(1);
    const g2 = await chunksOf(2);
    expect(g2).toEqual(g1);
    expect(g1.has(deleted)).toBe(false);
    expect(g1.has(added)).toBe(true);
    for (const g of [1, 2]) {
      const [hit] = await p.query<{ n: string }>(
        `SELECT count(*) AS n FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id
         WHERE c.generation = $1 AND d.uri = $2 AND c.text LIKE '%zanzibar quokka%'`,
        [g, edited],
      );
      expect(Number(hit?.n)).toBe(1);
    }
    const widths = await p.query<{ generation: number; dims: number; n: string }>(
      `SELECT generation, vector_dims(embedding) AS dims, count(*) AS n FROM sluice.chunks GROUP BY 1, 2 ORDER BY 1`,
    );
    expect(widths.map((w) => [w.generation, w.dims])).toEqual([
      [1, 384],
      [2, 256],
    ]);

    // Switch: the index is built first (on a server; the embedded database searches
    // a generation this small exactly), then every search reads generation 2.
    const moved = await switchTo(p.rt, 'default', 2, { requireReady: true });
    expect(moved).toMatchObject({ from: 1, to: 2 });
    expect(moved.index).toBeOneOf(embedded() ? ['small'] : ['built', 'exists']);
    for (let i = 0; i < 5; i++) {
      const s = await search('language text document');
      expect(s.generation).toBe(2);
      expect(s.hits.length).toBeGreaterThan(0);
      for (const h of s.hits) expect(h).toEqual({ generation: 2, dims: 256 });
    }
    await expectIndexAsServed(2);

    // An edit after the switch goes live into 2 and is kept current in 1 for rollback.
    appendFileSync(edited, '\n\npomegranate lighthouse\n');
    const after = await p.ingest([edited]);
    await waitForDocuments(p.rt, after.waitIds, { timeoutMs: 60_000, intervalMs: 100 });
    await waitForBuild(p.rt, 'default', 1, { timeoutMs: 60_000 });
    expect(await chunksOf(1)).toEqual(await chunksOf(2));

    // Rollback returns to 1.
    const back = await switchTo(p.rt, 'default', 1, { requireReady: false });
    expect(back).toMatchObject({ from: 2, to: 1 });
    const s = await search('pomegranate lighthouse');
    expect(s.generation).toBe(1);
    for (const h of s.hits) expect(h).toEqual({ generation: 1, dims: 384 });

    const gens = await listGenerations(p.rt.pool, 'default');
    expect(gens.map((g) => [g.generation, g.state, g.active, g.previous])).toEqual([
      [2, 'ready', false, true],
      [1, 'active', true, false],
    ]);

    // Retire 2: its chunks go, 1 is untouched; the active generation cannot be retired.
    await expect(retireGeneration(p.rt.pool, 'default', 1)).rejects.toThrow(/active/);
    const retired = await retireGeneration(p.rt.pool, 'default', 2);
    expect(retired.chunks).toBeGreaterThan(0);
    expect((await chunksOf(2)).size).toBe(0);
    expect((await chunksOf(1)).size).toBe(docs.files.length); // one deleted, one added
  });
});

describe('--auto-switch', () => {
  it("a worker's maintenance tick switches a complete build by itself, index first", async () => {
    const started = await startReindex(p.rt, {
      collection: 'default',
      target: { ...p.config, chunkSize: 500, chunkOverlap: 50 },
      autoSwitch: true,
    });
    expect(started).toMatchObject({ generation: 3, from: 1 });
    // No one calls switch: the in-process workers' reconciler tick does it.
    await waitUntil(
      'generation 3 to become active',
      async () => {
        const [c] = await p.query<{ g: number }>(
          `SELECT active_generation AS g FROM sluice.collections WHERE name = 'default'`,
        );
        return c?.g === 3;
      },
      60_000,
    );
    const gens = await listGenerations(p.rt.pool, 'default');
    expect(gens.map((g) => [g.generation, g.state])).toEqual([
      [3, 'active'],
      [2, 'retired'],
      [1, 'ready'],
    ]);
    await expectIndexAsServed(3);
    const s = await search('language text document');
    expect(s.generation).toBe(3);
    expect(s.hits.length).toBeGreaterThan(0);
  });
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Issue 2 acceptance 1–3 on real Redis + Postgres/pgvector: a folder of real
// documents ends searchable; unchanged re-ingest does nothing; an edit swaps only
// that document's chunks, atomically, reusing cached embeddings.
import { appendFileSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { copyTextFixtures } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

let p: TestPipeline;
let docs: ReturnType<typeof copyTextFixtures>;

async function counters(): Promise<Record<string, number>> {
  const rows = await p.query<{ name: string; value: string }>('SELECT name, value FROM sluice.counters');
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.value)]));
}

async function chunkSnapshot(): Promise<Map<number, string[]>> {
  const rows = await p.query<{ document_id: string; ids: string[] }>(
    'SELECT document_id, array_agg(id ORDER BY ordinal) AS ids FROM sluice.chunks GROUP BY document_id',
  );
  return new Map(rows.map((r) => [Number(r.document_id), r.ids.map(String)]));
}

beforeAll(async () => {
  docs = copyTextFixtures();
  p = await startPipeline({ label: 'pipeline' });
});

afterAll(async () => {
  await p?.close();
  docs?.cleanup();
});

describe('core pipeline on real documents', () => {
  it('ingests a folder of at least 20 real text, Markdown and HTML files to done', async () => {
    expect(docs.files.length).toBeGreaterThanOrEqual(20);
    const summary = await p.ingestAndWait([docs.dir]);
    expect(summary.queued).toBe(docs.files.length);
    const rows = await p.query<{ uri: string; status: string; error_code: string | null; n: string }>(
      `SELECT d.uri, d.status, d.error_code, count(c.id) AS n FROM sluice.documents d
       LEFT JOIN sluice.chunks c ON c.document_id = d.id GROUP BY d.id`,
    );
    expect(rows).toHaveLength(docs.files.length);
    for (const r of rows) {
      expect({ uri: basename(r.uri), status: r.status, code: r.error_code }).toEqual({
        uri: basename(r.uri),
        status: 'done',
        code: null,
      });
      expect(Number(r.n)).toBeGreaterThan(0);
    }
    const dims = await p.query<{ d: number; n: string }>(
      'SELECT vector_dims(embedding) AS d, count(*) AS n FROM sluice.chunks GROUP BY 1',
    );
    expect(dims).toEqual([{ d: 384, n: expect.any(String) }]);
    const meta = await p.query<{ m: Record<string, unknown> }>(
      `SELECT c.metadata AS m FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id
       WHERE d.uri LIKE '%docling-wiki.md' ORDER BY ordinal LIMIT 3`,
    );
    expect(meta[0]?.m).toMatchObject({ char_start: 0, heading_path: expect.any(Array) });
  });

  it('builds the collection HNSW cosine index once ingestion is idle, and search uses it', async () => {
    const idx = await p.query<{ def: string }>(
      `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'sluice' AND indexdef ILIKE '%hnsw%'`,
    );
    expect(idx).toHaveLength(1);
    expect(idx[0]?.def).toContain('vector(384)) vector_cosine_ops');
    expect(idx[0]?.def).toContain("collection = 'default'::text");
    const client = await p.rt.pool.connect();
    try {
      await client.query('SET enable_seqscan = off'); // the table is tiny: make the planner show it can use the index
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM sluice.chunks WHERE collection = 'default' AND generation = 1
         ORDER BY embedding::vector(384) <=> (SELECT embedding FROM sluice.chunks LIMIT 1)::vector(384) LIMIT 5`,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Index Scan using chunks_hnsw_default/,
      );
    } finally {
      client.release();
    }
  });

  it('finds a distinctive phrase with `sluice search`, its file first', async () => {
    const res = await runCli(['search', 'Apparent solar time and mean solar time', '-k', '3', '--json'], {
      env: p.env,
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { results: { uri: string; score: number }[] };
    expect(out.results).toHaveLength(3);
    expect(basename(out.results[0]!.uri)).toBe('deb-datatype-datetime.html');
    const text = await runCli(['search', 'Apparent solar time and mean solar time', '-k', '1'], {
      env: p.env,
    });
    expect(text.stdout).toContain('deb-datatype-datetime.html');
  });

  it('re-ingesting unchanged files writes no chunk and computes no embedding', async () => {
    const before = { chunks: await chunkSnapshot(), counters: await counters() };
    const runsBefore = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.stage_runs');
    const res = await runCli(['ingest', docs.dir, '--wait', '--json'], { env: p.env });
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as { unchanged: number; queued: number };
    expect(summary).toMatchObject({ unchanged: docs.files.length, queued: 0 });
    expect(await chunkSnapshot()).toEqual(before.chunks);
    expect((await counters()).embed_texts).toBe(before.counters.embed_texts);
    const runsAfter = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.stage_runs');
    expect(runsAfter[0]?.n).toBe(runsBefore[0]?.n);
  });

  it('an edited file swaps only its own chunks, atomically, and unchanged paragraphs hit the cache', async () => {
    const target = join(docs.dir, 'docling-wiki.md');
    const [doc] = await p.query<{ id: string }>('SELECT id FROM sluice.documents WHERE uri = $1', [target]);
    const id = Number(doc!.id);
    const before = await chunkSnapshot();
    const oldSet = (
      await p.query<{ h: string[] }>(
        'SELECT array_agg(content_hash ORDER BY ordinal) AS h FROM sluice.chunks WHERE document_id = $1',
        [id],
      )
    )[0]!.h.join();
    const c0 = await counters();

    // A reader polls the document's chunk set the whole time the new version is loaded.
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const rows = await p.query<{ h: string[] | null }>(
          'SELECT array_agg(content_hash ORDER BY ordinal) AS h FROM sluice.chunks WHERE document_id = $1',
          [id],
        );
        seen.add(rows[0]?.h?.join() ?? '');
      }
    })();
    appendFileSync(
      target,
      '\n\n## Zebra refunds\n\nA completely new closing section about striped refund policies.\n',
    );
    const summary = await p.ingestAndWait([docs.dir]);
    reading = false;
    await reader;
    expect(summary.queued).toBe(1);
    expect(summary.unchanged).toBe(docs.files.length - 1);

    const newSet = (
      await p.query<{ h: string[] }>(
        'SELECT array_agg(content_hash ORDER BY ordinal) AS h FROM sluice.chunks WHERE document_id = $1',
        [id],
      )
    )[0]!.h.join();
    expect(newSet).not.toBe(oldSet);
    expect(seen.has('')).toBe(false); // never zero chunks
    for (const s of seen) expect([oldSet, newSet]).toContain(s); // never a mix

    const after = await chunkSnapshot();
    for (const [docId, ids] of before) if (docId !== id) expect(after.get(docId)).toEqual(ids);

    const c1 = await counters();
    const total = newSet.split(',').length;
    const embedded = c1.embed_texts! - c0.embed_texts!;
    expect(embedded).toBeGreaterThan(0);
    expect(embedded).toBeLessThan(total);
    expect(c1.embed_cache_hits! - (c0.embed_cache_hits ?? 0)).toBeGreaterThan(0);
    expect(readFileSync(target, 'utf8')).toContain('Zebra refunds');
  });

  it('--force re-processes unchanged documents through every stage', async () => {
    const target = join(docs.dir, 'docling-mixed.md');
    const count = async () =>
      Number(
        (
          await p.query<{ n: string }>(
            `SELECT count(*) AS n FROM sluice.stage_runs r JOIN sluice.documents d ON d.id = r.document_id
             WHERE d.uri = $1 AND r.stage = 'extract' AND r.outcome = 'done'`,
            [target],
          )
        )[0]!.n,
      );
    const before = await count();
    const summary = await p.ingestAndWait([target], { force: true });
    expect(summary.queued).toBe(1);
    expect(await count()).toBe(before + 1);
    const [d] = await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri = $1', [
      target,
    ]);
    expect(d?.status).toBe('done');
  });
});

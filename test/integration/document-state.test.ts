// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// What readers see while a document's state changes (issue #16): a delete wins
// over a load in flight, a failed new version of a done document is `stale` and
// search serves only its last good version, retry leaves deleted documents alone,
// and a stale job's "waiting" note never lands on a newer version (issue #15).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from '../../src/dashboard/server.ts';
import { MIGRATIONS_DIR } from '../../src/db/migrate.ts';
import { DOCUMENT_STATUSES } from '../../src/loaders/document-state.ts';
import { deleteDocuments } from '../../src/loaders/documents.ts';
import { switchTo } from '../../src/queue/generations.ts';
import { progressOf } from '../../src/queue/progress.ts';
import { startReindex, waitForBuild } from '../../src/queue/reindex.ts';
import { runLoad } from '../../src/queue/stages/load.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline, waitIdle } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const MAX_BYTES = 20_000;
let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  p = await startPipeline({ label: 'docstate', env: { SLUICE_MAX_FILE_BYTES: String(MAX_BYTES) } });
  scratch = scratchDir('docstate');
});

afterAll(async () => {
  await p?.close();
  scratch?.cleanup();
});

interface DocRow {
  id: string;
  status: string;
  content_hash: string | null;
  indexed_hash: string | null;
  error_code: string | null;
  error_message: string | null;
}

async function doc(uri: string): Promise<DocRow> {
  const [row] = await p.query<DocRow>(
    'SELECT id, status, content_hash, indexed_hash, error_code, error_message FROM sluice.documents WHERE uri = $1',
    [uri],
  );
  if (!row) throw new Error(`no document ${uri}`);
  return row;
}

/** Writes a file, ingests it and waits until it is done; returns its row. */
async function ingestDone(file: string, text: string): Promise<DocRow> {
  writeFileSync(file, text);
  await p.ingestAndWait([file]);
  const row = await doc(file);
  expect(row.status).toBe('done');
  return row;
}

async function chunkTexts(id: string): Promise<string[]> {
  const rows = await p.query<{ text: string }>(
    'SELECT text FROM sluice.chunks WHERE document_id = $1 ORDER BY ordinal',
    [id],
  );
  return rows.map((r) => r.text);
}

async function searchUris(query: string): Promise<string[]> {
  const res = await runCli(['search', query, '-k', '50', '--json'], { env: p.env });
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { results: { uri: string }[] }).results.map((r) => r.uri);
}

/** Backends of a test database blocked on a lock, with their query. */
async function lockWaiters(on: TestPipeline = p): Promise<string[]> {
  const rows = await on.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows.map((r) => r.query);
}

describe('document state and what readers see', () => {
  it("the table's CHECK constraint allows exactly the statuses document-state.ts lists", async () => {
    const [row] = await p.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE conrelid = 'sluice.documents'::regclass AND conname = 'documents_status_check'`,
    );
    const allowed = [...(row?.def ?? '').matchAll(/'([a-z]+)'::text/g)].map((m) => m[1]);
    expect(allowed.sort()).toEqual([...DOCUMENT_STATUSES].sort());
  });

  it('a delete during the load transaction wins: no chunk of that load stays, search returns none', async () => {
    const file = join(scratch.dir, 'raced.txt');
    const before = await ingestDone(
      file,
      'Quokka burrows under the lighthouse keep their pebbles in rows.\n',
    );

    // Hold the load transaction open after it has begun: the live load share-locks
    // the collection row once it holds the document, so a lock on that row parks it.
    const holder: pg.PoolClient = await p.rt.pool.connect();
    let deleting: ReturnType<typeof runCli> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM sluice.collections WHERE name = 'default' FOR NO KEY UPDATE`);
      writeFileSync(file, 'Quokka burrows, second edition: the pebbles now sit in spirals.\n');
      await p.ingest([file]);
      await until('the load transaction waits on the collection row', async () =>
        (await lockWaiters()).some((q) => /FOR SHARE/.test(q)),
      );
      deleting = runCli(['delete', file, '--json'], { env: p.env });
      await until('the delete waits on the load', async () => (await lockWaiters()).length >= 2);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const res = await deleting;
    expect(res?.code, res?.stderr).toBe(0);
    expect(JSON.parse(res?.stdout ?? '{}')).toEqual({ deleted: [Number(before.id)], notFound: [] });
    await until('the load job finished', async () => (await p.rt.queues.load.getActiveCount()) === 0);

    expect(await doc(file)).toMatchObject({ status: 'deleted', indexed_hash: null });
    expect(await chunkTexts(before.id)).toEqual([]);
    expect(await searchUris('quokka pebbles spirals rows')).not.toContain(file);
  });

  it('a load that starts while a delete is committing waits for it, then stands down', async () => {
    // No load worker here: the test runs each version's load itself, when it wants.
    const q = await startPipeline({ label: 'docstate-noload', stages: ['extract', 'chunk', 'embed'] });
    const loadJob = async () => {
      const job = await until('a load job waiting', async () => (await q.rt.queues.load.getWaiting())[0]);
      await job.remove();
      return job.data;
    };
    try {
      const file = join(scratch.dir, 'parked.txt');
      writeFileSync(file, 'Walruses of the north pier keep a ledger of fog horns.\n');
      await q.ingest([file]);
      expect(await runLoad(q.rt, await loadJob())).toBe('done');
      writeFileSync(file, 'Walruses of the north pier, revised: the fog horns are now bells.\n');
      await q.ingest([file]);
      const second = await loadJob();
      const id = second.documentId;

      // Park the delete inside its transaction, after it has locked the document:
      // a lock on one of the document's chunks stops it at its chunk DELETE.
      const holder = await q.rt.pool.connect();
      let deleting: Promise<number> | undefined;
      let loading: ReturnType<typeof runLoad> | undefined;
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT id FROM sluice.chunks WHERE document_id = $1 LIMIT 1 FOR UPDATE', [id]);
        deleting = deleteDocuments(q.rt.pool, [id]);
        await until('the delete waits inside its transaction', async () =>
          (await lockWaiters(q)).some((w) => /DELETE FROM sluice\.chunks/.test(w)),
        );
        loading = runLoad(q.rt, second);
        await until('the load waits for the delete', async () => (await lockWaiters(q)).length >= 2);
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      expect(await deleting).toBe(1);
      expect(await loading).toBe('superseded');
      const rows = await q.query<{ status: string; n: string }>(
        `SELECT d.status, (SELECT count(*) FROM sluice.chunks c WHERE c.document_id = d.id) AS n
         FROM sluice.documents d WHERE d.id = $1`,
        [id],
      );
      expect(rows).toEqual([{ status: 'deleted', n: '0' }]);
    } finally {
      await q.close();
    }
  });

  it('a failed new version of a done document is stale: status says so, search serves only the last good version', async () => {
    const file = join(scratch.dir, 'lighthouse.md');
    const good = await ingestDone(
      file,
      '# Lighthouse\n\nThe lamp of the northern lighthouse turns every nine seconds.\n',
    );
    const goodChunks = await chunkTexts(good.id);
    expect(goodChunks.join('\n')).toContain('nine seconds');

    // The new version has no text at all: it fails at once (NO_TEXT).
    writeFileSync(file, '\n \n\t\n');
    await p.ingest([file]);
    await waitIdle(p);
    const after = await doc(file);
    expect(after).toMatchObject({ status: 'stale', indexed_hash: good.indexed_hash });
    expect(after.content_hash).not.toBe(good.content_hash);
    expect(after.error_code).toBeTruthy();
    expect(await chunkTexts(good.id)).toEqual(goodChunks);
    expect(await searchUris('northern lighthouse lamp nine seconds')).toContain(file);

    const json = await runCli(['status', '--json'], { env: p.env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      documents: Record<string, Record<string, number>>;
      recentFailures: { id: number; status: string; code: string }[];
    };
    expect(report.documents.default?.stale).toBe(1);
    expect(report.recentFailures).toContainEqual(
      expect.objectContaining({ id: Number(good.id), status: 'stale', code: after.error_code }),
    );
    const human = await runCli(['status'], { env: p.env });
    expect(human.stdout).toMatch(/stale 1/);
    expect(human.stdout).toMatch(/lighthouse\.md.*stale: serving the last good version/);
    const dash = await createDashboardApp({ rt: p.rt });
    try {
      const get = async (path: string) =>
        (await dash.app.request(`http://127.0.0.1${path}`, { headers: { accept: 'text/html' } })).text();
      const overview = await get('/');
      expect(overview).toContain('data-testid="count-default-stale">1<');
      expect(overview).toMatch(new RegExp(`data-testid="failure-${good.id}"[^]*?class="status stale"`));
      const page = await get(`/documents/${good.id}`);
      expect(page).toContain('data-testid="doc-status">stale<');
      expect(page).toContain('data-testid="doc-stale"');
    } finally {
      dash.close();
    }

    // Retry is for it too: the failed version runs again (and fails again), the good one still serves.
    const retry = await runCli(['retry', file, '--json'], { env: p.env });
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ retried: [Number(good.id)] });
    await waitIdle(p);
    expect(await doc(file)).toMatchObject({ status: 'stale', indexed_hash: good.indexed_hash });
    expect(await searchUris('northern lighthouse lamp nine seconds')).toContain(file);

    // The version fixed at the source is done again, and only its chunks are served.
    writeFileSync(file, '# Lighthouse\n\nThe lamp of the southern lighthouse turns every four seconds.\n');
    await p.ingestAndWait([file]);
    const fixed = await doc(file);
    expect(fixed).toMatchObject({ status: 'done', error_code: null, indexed_hash: fixed.content_hash });
    expect((await chunkTexts(good.id)).join('\n')).not.toContain('nine seconds');
  });

  it('a new version refused for its size leaves a done document stale, still serving the last good version', async () => {
    const file = join(scratch.dir, 'ledger.txt');
    const good = await ingestDone(
      file,
      'The harbour ledger lists every barrel of salted cod landed in March.\n',
    );
    writeFileSync(file, 'cod '.repeat(MAX_BYTES / 2));
    const run = await runCli(['ingest', file, '--wait', '--json'], { env: p.env });
    expect(run.code, run.stderr).toBe(1);
    expect(await doc(file)).toMatchObject({
      status: 'stale',
      error_code: 'TOO_LARGE',
      indexed_hash: good.indexed_hash,
    });
    expect(await searchUris('harbour ledger salted cod March')).toContain(file);
  });

  it('search never returns chunks of a failed document, whatever is left in the table; migration 0004 makes such a row stale', async () => {
    const file = join(scratch.dir, 'failed-left.txt');
    const row = await ingestDone(file, 'Marmalade moths gather under the orchard lantern at dusk.\n');
    expect(await searchUris('marmalade moths orchard lantern')).toContain(file);
    // A row failed by hand (as an older sluice left them) still holding chunks.
    await p.query(
      `UPDATE sluice.documents SET status = 'failed', error_code = 'CORRUPT_FILE' WHERE id = $1`,
      [row.id],
    );
    expect(await chunkTexts(row.id)).not.toEqual([]);
    expect(await searchUris('marmalade moths orchard lantern')).not.toContain(file);

    // Migration 0004 (run again here; it is idempotent) makes such a row stale: served, and saying so.
    await p.query(readFileSync(join(MIGRATIONS_DIR, '0004_document_stale.sql'), 'utf8'));
    expect(await doc(file)).toMatchObject({ status: 'stale', error_code: 'CORRUPT_FILE' });
    expect(await searchUris('marmalade moths orchard lantern')).toContain(file);
  });

  it('retry of a deleted document refuses in one line (exit 2) and it stays deleted', async () => {
    const file = join(scratch.dir, 'gone.txt');
    const row = await ingestDone(file, 'Pelicans of the estuary count herring by moonlight.\n');
    const del = await runCli(['delete', file], { env: p.env });
    expect(del.code, del.stderr).toBe(0);

    const res = await runCli(['retry', file], { env: p.env });
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/is deleted.*sluice ingest/);
    const json = await runCli(['retry', file, '--json'], { env: p.env });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ retried: [], notFound: [], deleted: [Number(row.id)] });
    await waitIdle(p);
    expect(await doc(file)).toMatchObject({ status: 'deleted', indexed_hash: null });
    expect(await chunkTexts(row.id)).toEqual([]);
    expect(await searchUris('pelicans estuary herring moonlight')).not.toContain(file);
  });

  it("a stale job's waiting note never lands on a newer version (issue #15)", async () => {
    const file = join(scratch.dir, 'waiting.txt');
    const row = await ingestDone(file, 'Otters of the canal sort their stones by colour.\n');
    const stale = {
      v: 1 as const,
      documentId: Number(row.id),
      contentHash: 'f'.repeat(64),
      collection: 'default',
      uri: file,
    };
    await progressOf(p.rt, stale).wait('CONFIG_ERROR', 'the embedder refused the key');
    expect(await doc(file)).toMatchObject({ status: 'done', error_code: null, error_message: null });
  });

  // Last: it moves the collection to a new generation.
  it("a switch to a generation without a stale document's last good version fails it: status and search agree", async () => {
    const file = join(scratch.dir, 'switch.md');
    const good = await ingestDone(
      file,
      '# Tides\n\nSpring tides at the breakwater rise above the iron ladder.\n',
    );
    writeFileSync(file, '\n\n');
    await p.ingest([file]);
    await waitIdle(p);
    const stale = await doc(file);
    expect(stale.status).toBe('stale');

    await startReindex(p.rt, { collection: 'default', target: { ...p.config, embedDimensions: 256 } });
    await waitForBuild(p.rt, 'default', 2, { timeoutMs: 120_000 });
    await switchTo(p.rt, 'default', 2, { requireReady: true });
    const after = await doc(file);
    expect(after).toMatchObject({ status: 'failed', indexed_hash: null, error_code: stale.error_code });
    expect(await chunkTexts(good.id)).not.toEqual([]); // generation 1 keeps them, for a rollback
    expect(await searchUris('spring tides breakwater iron ladder')).not.toContain(file);
  });
});

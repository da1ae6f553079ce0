// needs a Postgres server: runs pgbouncer in front of it
// needs a Redis server: workers queue on Redis
// The whole pipeline through PgBouncer in transaction mode (what Neon's and
// Supabase's pooled URLs are): migrate, a worker, `ingest --wait` and `search`
// all on the pooled DATABASE_URL, with and without SLUICE_DIRECT_DATABASE_URL.
// The pooler hands every transaction to the next server connection in turn, so
// anything that relied on a session (a session advisory lock, a SET) breaks.

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadMigrations } from '../../src/db/migrate.ts';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { copyTextFixtures } from '../helpers/corpus.ts';
import { ADMIN_URL, dbUrl, TEST_REDIS_URL, testDbPrefix, uniquePrefix } from '../helpers/db.ts';
import { startPgBouncer, type TestPgBouncer } from '../helpers/pgbouncer.ts';

let bouncer: TestPgBouncer;
let corpus: ReturnType<typeof copyTextFixtures>;
const databases: string[] = [];
const workers: ChildProcess[] = [];

beforeAll(async () => {
  bouncer = await startPgBouncer();
  corpus = copyTextFixtures();
});

afterAll(async () => {
  for (const w of workers) {
    w.kill('SIGKILL');
    await waitExit(w);
  }
  await bouncer?.close();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  corpus?.cleanup();
});

/** An empty database (not the migrated template): `sluice migrate` has all to do. */
async function emptyDatabase(): Promise<string> {
  const name = `${testDbPrefix(inject('templateDb'))}pgb_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  databases.push(name);
  return name;
}

async function queryDb<T extends object>(name: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl(name) });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/** migrate, a worker, ingest --wait and search, as an operator would run them. */
async function runPipeline(env: Record<string, string>): Promise<{ search: unknown }> {
  const migrated = await runCli(['migrate'], { env });
  expect(migrated.code, migrated.stderr).toBe(0);
  const worker = await spawnWorker(env);
  workers.push(worker);
  const ingest = await runCli(['ingest', corpus.dir, '--wait', '--json'], { env, timeoutMs: 150_000 });
  expect(ingest.code, ingest.stderr).toBe(0);
  const search = await runCli(['search', 'refund policy', '-k', '5', '--json'], { env });
  expect(search.code, search.stderr).toBe(0);
  worker.kill('SIGTERM');
  expect(await waitExit(worker)).toBe(0);
  // Row ids depend on the order documents were processed in: compare what a reader sees.
  const { results } = JSON.parse(search.stdout) as { results: Record<string, unknown>[] };
  return { search: results.map(({ chunkId: _c, documentId: _d, ...hit }) => hit) };
}

interface ChunkRow {
  uri: string;
  ordinal: number;
  text: string;
  content_hash: string;
  embedding: string;
}

async function chunksOf(db: string): Promise<ChunkRow[]> {
  return queryDb<ChunkRow>(
    db,
    `SELECT d.uri, c.ordinal, c.text, c.content_hash, c.embedding::text AS embedding
     FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id ORDER BY d.uri, c.ordinal`,
  );
}

async function statusesOf(db: string): Promise<Record<string, number>> {
  const rows = await queryDb<{ status: string; n: string }>(
    db,
    'SELECT status, count(*) AS n FROM sluice.documents GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Advisory locks still held in the database once every sluice process has exited. */
async function heldAdvisoryLocks(db: string): Promise<number> {
  const [r] = await queryDb<{ n: string }>(
    db,
    `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return Number(r?.n);
}

async function indexesValid(db: string): Promise<boolean[]> {
  const rows = await queryDb<{ valid: boolean | null }>(
    db,
    `SELECT (SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
             WHERE c.relname = g.index_name AND c.relnamespace = 'sluice'::regnamespace) AS valid
     FROM sluice.collection_generations g`,
  );
  return rows.map((r) => r.valid === true);
}

function baseEnv(): Record<string, string> {
  return {
    REDIS_URL: TEST_REDIS_URL,
    SLUICE_QUEUE_PREFIX: uniquePrefix('pgb'),
    SLUICE_LOG_LEVEL: 'error',
    SLUICE_PG_POOL_MAX: '4',
  };
}

describe('through a transaction pooler (PgBouncer pool_mode=transaction)', () => {
  it('DATABASE_URL pooled + SLUICE_DIRECT_DATABASE_URL: every document done, the same chunks as a direct run', async () => {
    const pooled = await emptyDatabase();
    const direct = await emptyDatabase();
    const viaPooler = await runPipeline({
      ...baseEnv(),
      DATABASE_URL: bouncer.url(pooled),
      SLUICE_DIRECT_DATABASE_URL: dbUrl(pooled),
    });
    const plain = await runPipeline({ ...baseEnv(), DATABASE_URL: dbUrl(direct) });

    const statuses = await statusesOf(pooled);
    expect(statuses).toEqual({ done: corpus.files.length });
    expect(await statusesOf(direct)).toEqual(statuses);
    const chunks = await chunksOf(pooled);
    expect(chunks.length).toBeGreaterThan(corpus.files.length);
    expect(chunks).toEqual(await chunksOf(direct));
    expect(viaPooler.search).toEqual(plain.search);
    expect(await indexesValid(pooled)).toEqual([true]);
    expect(await heldAdvisoryLocks(pooled)).toBe(0);
  });

  it('no direct URL: concurrent migrates through the pooler finish, apply each migration once, leave no lock; the pipeline completes', async () => {
    const db = await emptyDatabase();
    const env = { ...baseEnv(), DATABASE_URL: bouncer.url(db) };
    const runs = await Promise.all([1, 2, 3].map(() => runCli(['migrate', '--json'], { env })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const again = await runCli(['migrate', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const statuses = (JSON.parse(again.stdout) as { migrations: { status: string }[] }).migrations.map(
      (m) => m.status,
    );
    const files = await loadMigrations();
    // sluice's migrations and BullMQ's queue schema (applied in one transaction: safe through the pooler).
    expect(statuses).toEqual([...files, 'bullmq'].map(() => 'already-applied'));
    const ledger = await queryDb<{ id: number }>(db, 'SELECT id FROM sluice.migrations ORDER BY id');
    expect(ledger.map((r) => r.id)).toEqual(files.map((m) => m.id));
    expect(await heldAdvisoryLocks(db)).toBe(0);

    await runPipeline(env);
    expect(await statusesOf(db)).toEqual({ done: corpus.files.length });
    expect(await indexesValid(db)).toEqual([true]);
    expect(await heldAdvisoryLocks(db)).toBe(0);
  });
});

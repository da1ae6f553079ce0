// needs a Postgres server: counts statements in pg_stat_statements/pg_stat_activity
// needs a Redis server: counts Redis commands
// What an ingest costs Postgres, and that it queues each job once (issue #15):
// documents are recorded a batch per statement, so a first ingest and a re-ingest
// of N files commit a handful of transactions, not one or two per file; every new
// or changed version has exactly one extract job with its deterministic id; a
// finished job with that id is replaced, a waiting one is left alone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { jobId } from '../../src/queue/jobs.ts';
import { ingestFiles, ingestHashed } from '../../src/queue/producer.ts';
import { createRuntime } from '../../src/queue/runtime.ts';
import { resolveInputs } from '../../src/sources/files.ts';
import { scratchDir } from '../helpers/corpus.ts';
import {
  ADMIN_URL,
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  uniquePrefix,
} from '../helpers/db.ts';
import { obliterate } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const N = 300;
const TOO_LARGE = 2;
const MAX_BYTES = 1000;

let db: TestDatabase;
let config: Config;
let scratch: ReturnType<typeof scratchDir>;
let redis: Redis;
let extract: Queue;
let admin: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  config = loadConfig({
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      SLUICE_QUEUE_PREFIX: uniquePrefix('ingestcost'),
      SLUICE_LOG_LEVEL: 'error',
      SLUICE_MAX_FILE_BYTES: String(MAX_BYTES),
    },
    cwd: '/',
  });
  scratch = scratchDir('ingestcost');
  for (let i = 0; i < N; i++)
    writeFileSync(join(scratch.dir, `doc-${i}.txt`), `Document ${i} about sluices.\n`);
  for (let i = 0; i < TOO_LARGE; i++)
    writeFileSync(join(scratch.dir, `big-${i}.txt`), 'x'.repeat(MAX_BYTES * 2));
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  extract = new Queue('extract', { connection: redis, prefix: config.queuePrefix });
  admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
});

afterAll(async () => {
  if (config) {
    const rt = await createRuntime(config, { log: createLogger('error'), kind: 'producer' });
    await obliterate(rt);
    await rt.close();
  }
  await extract?.close();
  redis?.disconnect();
  await admin?.end();
  await db?.drop();
  scratch?.cleanup();
});

/** Commits of the test database once no backend is connected to it (a backend flushes its stats on exit). */
async function commits(): Promise<number> {
  await until('the database has no backends', async () => {
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
      db.name,
    ]);
    return rows[0].n === 0;
  });
  const { rows } = await admin.query(
    'SELECT xact_commit::int AS c FROM pg_stat_database WHERE datname = $1',
    [db.name],
  );
  return rows[0].c as number;
}

/** One ingest of `inputs` in a runtime of its own, and the Postgres commits of that runtime's whole life. */
async function countedIngest(inputs: string[]) {
  const before = await commits();
  const rt = await createRuntime(config, { log: createLogger('error'), kind: 'producer' });
  const files = inputs.length > 0 ? await resolveInputs(inputs) : [];
  const progress: number[] = [];
  const summary = await ingestFiles(rt, files, {
    collection: config.collection,
    onProgress: (done) => progress.push(done),
  });
  await rt.close();
  return { summary, progress, commits: (await commits()) - before };
}

/** Runs SQL on the test database in a short-lived client (so it leaves no backend behind). */
async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** The extract job ids each hashed document should have, sorted. */
async function expectedJobIds(): Promise<string[]> {
  const docs = await sql<{ id: string; content_hash: string }>(
    'SELECT id, content_hash FROM sluice.documents WHERE content_hash IS NOT NULL',
  );
  return docs.map((d) => jobId('extract', { documentId: Number(d.id), contentHash: d.content_hash })).sort();
}

async function jobIds(states: ('waiting' | 'completed')[]): Promise<string[]> {
  const jobs = await extract.getJobs(states, 0, -1);
  return jobs.map((j) => j.id ?? '').sort();
}

describe('ingest cost (issue #15)', () => {
  let overhead = 0;

  it('measures what a runtime costs with nothing to ingest', async () => {
    overhead = (await countedIngest([])).commits;
    expect(overhead).toBeLessThan(N / 10);
  });

  it(`a first ingest of ${N} files commits at most ${N / 50} times and queues each job once`, async () => {
    const { summary, progress, commits } = await countedIngest([scratch.dir]);
    expect(commits - overhead).toBeLessThanOrEqual(N / 50);
    expect(summary).toMatchObject({
      files: N + TOO_LARGE,
      queued: N,
      unchanged: 0,
      inFlight: 0,
      refused: TOO_LARGE,
    });
    expect(summary.ids).toHaveLength(N + TOO_LARGE);
    expect(new Set(summary.waitIds).size).toBe(N);
    expect(summary.refusedIds).toHaveLength(TOO_LARGE);
    expect(progress.at(-1)).toBe(N + TOO_LARGE);
    const refused = await sql<{ status: string; error_code: string }>(
      'SELECT status, error_code FROM sluice.documents WHERE content_hash IS NULL',
    );
    expect(refused).toEqual(Array(TOO_LARGE).fill({ status: 'failed', error_code: 'TOO_LARGE' }));
    const expected = await expectedJobIds();
    expect(expected).toHaveLength(N);
    expect(await jobIds(['waiting'])).toEqual(expected);
  });

  it('a re-ingest of the same files while they wait commits as little and adds no job', async () => {
    const { summary, commits } = await countedIngest([scratch.dir]);
    expect(commits - overhead).toBeLessThanOrEqual(N / 50);
    expect(summary).toMatchObject({ queued: 0, unchanged: 0, inFlight: N, refused: TOO_LARGE });
    expect(await jobIds(['waiting'])).toEqual(await expectedJobIds());
  });

  it('a job finished while its document is still queued is replaced by a waiting one', async () => {
    // A plain BullMQ worker completes every job and leaves the documents queued,
    // as a worker that lost its Postgres connection after finishing would.
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker('extract', async () => undefined, { connection, prefix: config.queuePrefix });
    try {
      await until('every job completed', async () => (await extract.getCompletedCount()) === N);
    } finally {
      await worker.close();
      connection.disconnect();
    }
    expect(await jobIds(['completed'])).toHaveLength(N);
    const { summary } = await countedIngest([scratch.dir]);
    expect(summary.inFlight).toBe(N);
    expect(await jobIds(['completed'])).toEqual([]);
    expect(await jobIds(['waiting'])).toEqual(await expectedJobIds());
  });

  it(`an unchanged re-ingest of ${N} indexed files commits at most ${N / 50} times and queues nothing`, async () => {
    await sql(
      "UPDATE sluice.documents SET status = 'done', stage = NULL, indexed_hash = content_hash WHERE content_hash IS NOT NULL",
    );
    await extract.drain();
    const { summary, commits } = await countedIngest([scratch.dir]);
    expect(commits - overhead).toBeLessThanOrEqual(N / 50);
    expect(summary).toMatchObject({ queued: 0, unchanged: N, inFlight: 0, refused: TOO_LARGE, waitIds: [] });
    expect(await jobIds(['waiting'])).toEqual([]);
  });

  it('a uri given twice in one call is recorded twice, in order', async () => {
    const rt = await createRuntime(config, { log: createLogger('error'), kind: 'producer' });
    try {
      const uri = join(scratch.dir, 'doc-0.txt');
      const summary = await ingestHashed(
        rt,
        [
          { uri, bytes: 10, hash: 'a'.repeat(64) },
          { uri, bytes: 10, hash: 'b'.repeat(64) },
        ],
        { collection: config.collection },
      );
      expect(summary.queued).toBe(2);
      const [row] = await sql<{ content_hash: string; status: string }>(
        'SELECT content_hash, status FROM sluice.documents WHERE uri = $1',
        [uri],
      );
      expect(row).toEqual({ content_hash: 'b'.repeat(64), status: 'queued' });
    } finally {
      await rt.close();
    }
  });
});

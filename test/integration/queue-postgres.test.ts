// needs a Redis server: proves the Postgres queue writes nothing to the running Redis
// Issue 9: with REDIS_URL unset the stage queues are BullMQ's PostgreSQL backend
// in the DATABASE_URL database. Its schema comes from `sluice migrate` (never from
// a worker starting), two queue prefixes in one database keep their jobs apart,
// and nothing is written to any Redis.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { createRuntime } from '../../src/queue/runtime.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { createEmptyDatabase, TEST_REDIS_URL, uniquePrefix } from '../helpers/db.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

describe('the queue schema', () => {
  it('is created by sluice migrate, once, even by two migrations at once', async () => {
    const db = await createEmptyDatabase();
    const a = createPool(db.url, { max: 1 });
    const b = createPool(db.url, { max: 1 });
    try {
      const runs = await Promise.all([migrate(a), migrate(b)]);
      const queueRows = runs.flat().filter((r) => r.name.startsWith('bullmq'));
      expect(queueRows.map((r) => r.status).sort()).toEqual(['already-applied', 'applied']);
      // BullMQ's ledger: each of its migrations applied exactly once.
      const { rows } = await a.query<{ version: number; n: string }>(
        'SELECT version, count(*) AS n FROM bullmq.migration GROUP BY version',
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(Number(r.n)).toBe(1);
      expect((await migrate(a)).find((r) => r.name.startsWith('bullmq'))?.status).toBe('already-applied');
    } finally {
      await a.end();
      await b.end();
      await db.drop();
    }
  });

  it('missing: a worker does not create it but says to run sluice migrate', async () => {
    const db = await createEmptyDatabase();
    try {
      const config = loadConfig({
        env: { DATABASE_URL: db.url, SLUICE_LOG_LEVEL: 'silent', SLUICE_QUEUE_PREFIX: uniquePrefix('pgq') },
        cwd: '/',
      });
      await expect(createRuntime(config)).rejects.toThrow(/queue tables .* missing.*run `sluice migrate`/);
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const { rows } = await c.query("SELECT to_regnamespace('bullmq') AS s");
      await c.end();
      expect(rows[0]?.s).toBeNull();
    } finally {
      await db.drop();
    }
  });
});

describe('two installs in one database, no Redis', () => {
  let a: TestPipeline;
  let b: TestPipeline;
  const scratch = scratchDir('pgq');
  const redis = new Redis(TEST_REDIS_URL);

  beforeAll(async () => {
    a = await startPipeline({ label: 'pgq-a', queue: 'postgres' });
    // Install b: the same database, its own queue prefix, no workers.
    b = await startPipeline({ label: 'pgq-b', queue: 'postgres', stages: [], database: a.db });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    redis.disconnect();
    scratch.cleanup();
  });

  it('keeps each prefix’s jobs in its own queues and writes nothing to Redis', async () => {
    expect(a.rt.queue.kind).toBe('postgres');
    expect(a.rt.redis).toBeUndefined();
    writeFileSync(join(scratch.dir, 'a.md'), '# A\n\nprocessed by install a');
    writeFileSync(join(scratch.dir, 'b.md'), '# B\n\nqueued by install b, which runs no workers');
    await a.ingestAndWait([join(scratch.dir, 'a.md')]);
    await b.ingest([join(scratch.dir, 'b.md')]);
    const counts = await b.rt.queues.extract.getJobCounts('waiting', 'active', 'completed');
    expect(counts).toMatchObject({ waiting: 1, active: 0, completed: 0 });
    expect((await a.rt.queues.extract.getJobCounts('completed')).completed).toBe(1);
    for (const p of [a, b]) expect(await redis.keys(`${p.config.queuePrefix}*`)).toEqual([]);
  });

  it('answers what status, retry and the dashboard ask: workers, waiting jobs, readiness', async () => {
    // `sluice retry` and `run` warn when no worker listens; inspect.ts lists the next waiting job.
    expect(await a.rt.queues.extract.getWorkersCount()).toBeGreaterThanOrEqual(1);
    expect(await b.rt.queues.extract.getWorkersCount()).toBe(0);
    const next = await b.rt.queues.extract.getJobs(['wait', 'prioritized'], 0, 0, true);
    expect(next.map((j) => j.data.uri)).toEqual([join(scratch.dir, 'b.md')]);
    await expect(b.rt.queue.ping()).resolves.toBeUndefined();
  });

  it('keeps one sweep at a time per install: a lease no other session takes until released', async () => {
    // Not the reconciler's own lease, which a's running workers take now and then.
    const LEASE = 'test-lease';
    const held = await a.rt.queue.tryLease(LEASE, 5000);
    expect(held).toBeDefined();
    expect(await a.rt.queue.tryLease(LEASE, 5000)).toBeUndefined();
    const other = await b.rt.queue.tryLease(LEASE, 5000); // another prefix, another lease
    expect(other).toBeDefined();
    expect(await held?.extend()).toBe(true);
    await held?.release();
    await other?.release();
    const again = await a.rt.queue.tryLease(LEASE, 5000);
    expect(again).toBeDefined();
    await again?.release();
  });
});

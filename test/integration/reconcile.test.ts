// needs a Postgres server: watches other sessions in pg_stat_activity
// needs a Redis server: restarts a private redis-server
// The reconciler puts back documents whose job vanished (stalled past BullMQ's
// limit, lost with a Redis write) and fails, with a reason, one that keeps
// getting interrupted — nothing is left 'processing' forever.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMissingIndexes } from '../../src/loaders/pgvector.ts';
import { jobId, payloadFor, type StageName } from '../../src/queue/jobs.ts';
import { waitForDocuments } from '../../src/queue/producer.ts';
import { enqueue } from '../../src/queue/queues.ts';
import { RECONCILE_LEASE, reconcile } from '../../src/queue/reconcile.ts';
import { startWorkers } from '../../src/queue/supervisor.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { skipOnPostgresQueue } from '../helpers/db.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { startTestRedis } from '../helpers/redis-server.ts';
import { until } from '../helpers/until.ts';

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  p = await startPipeline({ label: 'reconcile', stages: [] });
  scratch = scratchDir('reconcile');
});

afterAll(async () => {
  await p?.close();
  scratch?.cleanup();
});

describe('reconciler', () => {
  it('re-queues a document whose job was lost, and leaves one with a live job alone', async () => {
    writeFileSync(join(scratch.dir, 'lost.txt'), 'a document whose job Redis forgot');
    writeFileSync(join(scratch.dir, 'kept.txt'), 'a document whose job is still waiting');
    const summary = await p.ingest([scratch.dir]);
    expect(summary.queued).toBe(2);
    const docs = await p.query<{ id: string; uri: string; content_hash: string }>(
      'SELECT id, uri, content_hash FROM sluice.documents ORDER BY uri',
    );
    const [kept, lost] = docs;
    await p.rt.queues.extract.remove(
      jobId('extract', { documentId: Number(lost!.id), contentHash: lost!.content_hash }),
    );
    await p.query(`UPDATE sluice.documents SET updated_at = now() - interval '1 hour'`);

    const result = await reconcile(p.rt, { staleMs: 60_000 });
    expect(result).toEqual({ checked: 2, requeued: 1, failed: 0 });
    expect(
      await p.rt.queues.extract.getJob(
        jobId('extract', { documentId: Number(lost!.id), contentHash: lost!.content_hash }),
      ),
    ).toBeDefined();

    const workers = await startWorkers(p.rt, ['extract', 'chunk', 'embed', 'load'], { concurrency: 2 });
    try {
      const waited = await waitForDocuments(p.rt, [Number(kept!.id), Number(lost!.id)], {
        timeoutMs: 30_000,
      });
      expect(waited).toMatchObject({ done: 2, failed: 0, pending: 0 });
    } finally {
      await workers.close();
    }
  });

  it('leaves a document whose stage completed and whose next job waits (an outage kept it from marking the document)', async () => {
    writeFileSync(join(scratch.dir, 'between.txt'), 'a document between two stages');
    const summary = await p.ingest([join(scratch.dir, 'between.txt')]);
    const id = summary.ids[0]!;
    const [doc] = await p.query<{ id: string; content_hash: string; collection: string; uri: string }>(
      'SELECT id, content_hash, collection, uri FROM sluice.documents WHERE id = $1',
      [id],
    );
    const payload = payloadFor(doc!);
    // The extract job completes (a bare worker stands in for the stage) and queues chunk, whose
    // worker could not mark the document yet: it still says processing at extract, untouched.
    const bare = p.rt.queue.worker('extract', async () => 'done', {});
    try {
      await until('the extract job to complete', async () => {
        const job = await p.rt.queues.extract.getJob(jobId('extract', payload));
        return (await job?.getState()) === 'completed';
      });
    } finally {
      await bare.close();
    }
    await enqueue(p.rt.queues, 'chunk', payload);
    await p.query(
      `UPDATE sluice.documents SET status = 'processing', stage = 'extract', updated_at = now() - interval '1 hour' WHERE id = $1`,
      [id],
    );
    const result = await reconcile(p.rt, { staleMs: 60_000 });
    expect(result.requeued).toBe(0);
    const [after] = await p.query<{ attempts: number }>(
      'SELECT attempts FROM sluice.documents WHERE id = $1',
      [id],
    );
    expect(after?.attempts).toBe(0);
    await p.rt.queues.chunk.obliterate({ force: true });
  });

  it('fails a document that was interrupted too many times, with a reason', async () => {
    writeFileSync(join(scratch.dir, 'poison.txt'), 'a document that keeps killing its worker');
    const summary = await p.ingest([join(scratch.dir, 'poison.txt')]);
    const id = summary.ids[0]!;
    await p.rt.queues.extract.obliterate({ force: true });
    await p.query(
      `UPDATE sluice.documents SET status = 'processing', attempts = 100, updated_at = now() - interval '1 hour' WHERE id = $1`,
      [id],
    );
    const result = await reconcile(p.rt, { staleMs: 60_000 });
    expect(result.failed).toBe(1);
    const [doc] = await p.query<{ status: string; error_code: string; error_message: string }>(
      'SELECT status, error_code, error_message FROM sluice.documents WHERE id = $1',
      [id],
    );
    expect(doc).toMatchObject({ status: 'failed', error_code: 'INTERNAL' });
    expect(doc?.error_message).toContain('interrupted');
  });

  it('builds a collection index only once the collection is idle (or forced), once', async () => {
    writeFileSync(join(scratch.dir, 'pending.txt'), 'a document still waiting for a worker');
    await p.ingest([join(scratch.dir, 'pending.txt')]);
    await p.query(`DROP INDEX IF EXISTS sluice.${await indexName()}`);
    expect(await buildMissingIndexes(p.rt.pool)).toEqual({ 'default#1': 'busy' });
    expect(await buildMissingIndexes(p.rt.pool, { force: true })).toEqual({ 'default#1': 'built' });
    expect(await buildMissingIndexes(p.rt.pool)).toEqual({ 'default#1': 'exists' });
  });
});

describe('recovery after Redis lost its data', () => {
  it.skipIf(
    skipOnPostgresQueue(
      'recovery after Redis lost its data (FLUSHALL): Postgres does not lose committed jobs',
    ),
  )('one sweep re-queues every document in flight, however many, each at its own stage', async () => {
    const redis = await startTestRedis();
    const q = await startPipeline({ label: 'reconcile-flush', stages: [], env: { REDIS_URL: redis.url } });
    try {
      writeFileSync(join(scratch.dir, 'real.txt'), 'one real document among many');
      await q.ingest([join(scratch.dir, 'real.txt')]);
      // 1,200 documents in flight at every stage: more than one page (500) of the sweep.
      await q.query(`
        INSERT INTO sluice.documents (collection, uri, content_hash, status, stage)
        SELECT 'default', '/flushed/' || n || '.txt', encode(sha256(n::text::bytea), 'hex'),
               CASE WHEN n % 4 = 0 THEN 'queued' ELSE 'processing' END,
               (ARRAY['extract', 'chunk', 'embed', 'load'])[1 + n % 4]
        FROM generate_series(1, 1199) AS n`);
      await q.rt.redis?.flushall();
      await q.query(`UPDATE sluice.documents SET updated_at = now() - interval '1 hour'`);

      const result = await reconcile(q.rt, { staleMs: 60_000 });
      expect(result).toEqual({ checked: 1200, requeued: 1200, failed: 0 });
      const expected = await q.query<{ stage: string; n: string }>(
        'SELECT stage, count(*) AS n FROM sluice.documents GROUP BY stage',
      );
      for (const { stage, n } of expected) {
        const counts = await q.rt.queues[stage as StageName].getJobCounts('waiting');
        expect([stage, counts.waiting]).toEqual([stage, Number(n)]);
      }
      // Every job is live now: the next sweep finds nothing to do.
      await q.query(`UPDATE sluice.documents SET updated_at = now() - interval '1 hour'`);
      expect(await reconcile(q.rt, { staleMs: 60_000 })).toEqual({ checked: 1200, requeued: 0, failed: 0 });
    } finally {
      await q.close();
      await redis.close();
    }
  });
});

describe('the sweep lock', () => {
  const lockKey = () => `${p.config.queuePrefix}:${RECONCILE_LEASE}`;
  const staleDocs = () => p.query(`UPDATE sluice.documents SET updated_at = now() - interval '1 hour'`);

  it('is released when a sweep fails, so the next sweep runs at once', async () => {
    writeFileSync(join(scratch.dir, 'lock-a.txt'), 'a document the failing sweep never reached');
    await p.ingest([join(scratch.dir, 'lock-a.txt')]);
    await staleDocs();
    await p.query('ALTER TABLE sluice.documents RENAME TO documents_away');
    try {
      await expect(reconcile(p.rt, { staleMs: 60_000 })).rejects.toThrow(/documents/);
    } finally {
      await p.query('ALTER TABLE sluice.documents_away RENAME TO documents');
    }
    const lease = await p.rt.queue.tryLease(RECONCILE_LEASE, 5000);
    expect(lease).toBeDefined();
    await lease?.release();
    expect((await reconcile(p.rt, { staleMs: 60_000 })).checked).toBeGreaterThan(0);
  });

  it('is not deleted by a sweep whose lease lapsed while another sweep took it', async () => {
    // The lease is a Redis key, or a sluice.leases row when the queue is in Postgres.
    const redis = p.rt.redis;
    const steal = () =>
      redis
        ? redis.set(lockKey(), 'another-sweep', 'PX', 60_000)
        : p.query(`UPDATE sluice.leases SET token = 'another-sweep' WHERE name = $1`, [lockKey()]);
    const holder = async () =>
      redis
        ? redis.get(lockKey())
        : (
            await p.query<{ token: string }>('SELECT token FROM sluice.leases WHERE name = $1', [lockKey()])
          )[0]?.token;
    writeFileSync(join(scratch.dir, 'lock-b.txt'), 'a document whose row the test holds locked');
    const summary = await p.ingest([join(scratch.dir, 'lock-b.txt')]);
    const id = summary.ids[0]!;
    await p.rt.queues.extract.obliterate({ force: true });
    await staleDocs();
    // Hold the document's row so the sweep stops at its re-queue, lease in hand.
    const blocker = await p.rt.pool.connect();
    let sweeping: Promise<unknown> | undefined;
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM sluice.documents WHERE id = $1 FOR UPDATE', [id]);
      sweeping = reconcile(p.rt, { staleMs: 60_000 });
      let settled = false;
      const settle = () => {
        settled = true;
      };
      sweeping.then(settle, settle);
      await until('the sweep to wait on the row lock', async () => {
        // Not on the blocker: inside a transaction, pg_stat_activity is a snapshot taken once.
        const rows = await p.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (settled) throw new Error(`the sweep ended without waiting: ${JSON.stringify(await sweeping)}`);
        return rows.length > 0;
      });
      // Its lease lapses and another sweep takes the lock.
      await steal();
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    await sweeping;
    expect(await holder()).toBe('another-sweep');
    if (redis) await redis.del(lockKey());
    else await p.query('DELETE FROM sluice.leases WHERE name = $1', [lockKey()]);
  });
});

describe('index builds never hang their caller', () => {
  it('gives up after lockTimeoutMs while an old transaction is open, then builds once it is gone', async () => {
    await p.query(`DROP INDEX IF EXISTS sluice.${await indexName()}`);
    const blocker = await p.rt.pool.connect();
    try {
      await blocker.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await blocker.query('SELECT count(*) FROM sluice.chunks'); // holds a snapshot and a lock
      const started = Date.now();
      await expect(buildMissingIndexes(p.rt.pool, { force: true, lockTimeoutMs: 500 })).rejects.toThrow(
        /lock timeout/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await buildMissingIndexes(p.rt.pool, { force: true })).toEqual({ 'default#1': 'built' });
    const [valid] = await p.query<{ v: boolean }>(
      `SELECT indisvalid AS v FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
      [await indexName()],
    );
    expect(valid?.v).toBe(true);
  });
});

async function indexName(): Promise<string> {
  const [g] = await p.query<{ index_name: string }>('SELECT index_name FROM sluice.collection_generations');
  return g!.index_name;
}

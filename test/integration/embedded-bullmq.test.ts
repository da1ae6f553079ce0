// BullMQ's PostgreSQL backend on the embedded pool (issue 9): jobs added, and
// processed with concurrency, one retried after a failure, one delayed; then
// everything closes and nothing is left waiting on the one session.
import { createPostgresBackend, Queue, runMigrations, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';
import { until } from '../helpers/until.ts';

let home: TempHome;
let pool: Pool;

beforeAll(async () => {
  home = await tempHome('bullmq');
  pool = createPool(home.url, { max: 10 });
  const client = await pool.connect();
  try {
    await runMigrations(client);
  } finally {
    client.release();
  }
});

afterAll(async () => {
  await pool?.end();
  await home?.remove();
});

describe('BullMQ PostgreSQL backend on the embedded database', () => {
  it('processes jobs with concurrency, a retry and a delay, then closes cleanly', async () => {
    const name = 'embedded-q';
    const queue = new Queue(name, { connection: pool }, createPostgresBackend);
    const attempts = new Map<string, number>();
    const active = { now: 0, max: 0 };
    const worker = new Worker(
      name,
      async (job) => {
        active.now++;
        active.max = Math.max(active.max, active.now);
        try {
          const n = (attempts.get(job.id!) ?? 0) + 1;
          attempts.set(job.id!, n);
          await new Promise((r) => setImmediate(r));
          if (job.data.failOnce && n === 1) throw new Error('first attempt fails');
          return { doubled: job.data.i * 2 };
        } finally {
          active.now--;
        }
      },
      { connection: pool, concurrency: 4 },
      createPostgresBackend,
    );
    try {
      const n = 40;
      await queue.addBulk(
        Array.from({ length: n }, (_, i) => ({
          name: 'work',
          data: { i, failOnce: i === 7 },
          opts: { jobId: `job-${i}`, attempts: 3, backoff: { type: 'fixed', delay: 50 } },
        })),
      );
      const delayedAt = Date.now();
      await queue.add('later', { i: 1000 }, { jobId: 'delayed', delay: 300 });
      await until('every job completed', async () => {
        const c = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
        return c.completed === n + 1 ? c : undefined;
      });
      expect(attempts.get('job-7')).toBe(2);
      expect((await queue.getJob('job-7'))?.returnvalue).toEqual({ doubled: 14 });
      const delayed = await queue.getJob('delayed');
      expect(delayed?.processedOn).toBeGreaterThanOrEqual(delayedAt + 300);
      expect(active.max).toBeGreaterThan(1);
      expect((await queue.getJobCounts('failed')).failed).toBe(0);
    } finally {
      await worker.close();
      await queue.close();
    }
    // The session is free afterwards: nothing holds it in a transaction.
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });
});

// needs a Postgres server: restarts a private cluster and kills sessions with pg_terminate_backend
// needs a Redis server: fills a private redis-server to its maxmemory
// Issue 2 acceptance 5: transient faults (Postgres backends terminated, Redis
// stopped and restarted mid-run) are retried and the run completes; a permanent
// fault (a file no extractor accepts) fails only its own document. Issue #16: a
// Postgres server down longer than attempts × backoff costs no attempt.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForDocuments } from '../../src/queue/producer.ts';
import { addStageRunSink } from '../../src/queue/telemetry.ts';
import { freePort } from '../chaos/driver.ts';
import { copyTextFixtures } from '../helpers/corpus.ts';
import { ADMIN_URL, skipOnPostgresQueue, TEST_QUEUE } from '../helpers/db.ts';
import { startTestPostgres } from '../helpers/pg-cluster.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.ts';
import { until } from '../helpers/until.ts';

let docs: ReturnType<typeof copyTextFixtures>;
let redis: TestRedis;

beforeAll(async () => {
  docs = copyTextFixtures();
  writeFileSync(
    join(docs.dir, 'garbage.md'),
    Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x02, 0x9c, 0x00, 0x00, 0x13]),
  );
  if (TEST_QUEUE === 'redis') redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.close();
  docs?.cleanup();
});

async function expectOnlyGarbageFailed(
  query: (sql: string) => Promise<{ uri: string; status: string; error_code: string | null }[]>,
) {
  const rows = await query('SELECT uri, status, error_code FROM sluice.documents ORDER BY uri');
  expect(rows).toHaveLength(docs.files.length + 1);
  for (const r of rows) {
    if (r.uri.endsWith('garbage.md'))
      expect(r).toMatchObject({ status: 'failed', error_code: 'UNSUPPORTED_TYPE' });
    else expect(r).toMatchObject({ status: 'done', error_code: null });
  }
}

/** Counts stage runs turned back, whether deferred (no attempt used) or spending an attempt. */
function countTurnedBack(): { readonly n: number; stop(): void } {
  let n = 0;
  const remove = addStageRunSink(() => (end) => {
    if (end.outcome === 'deferred' || end.outcome === 'retry' || end.outcome === 'failed') n++;
  });
  return {
    get n() {
      return n;
    },
    stop: () => void remove(),
  };
}

/** Every document done but the garbage one, and none of them tried twice. */
async function expectDoneWithoutSpentAttempts(p: TestPipeline): Promise<void> {
  await expectOnlyGarbageFailed((sql) => p.query(sql));
  const [max] = await p.query<{ n: number }>('SELECT max(attempts) AS n FROM sluice.documents');
  expect(max?.n).toBe(1);
}

describe('Redis out of memory (maxmemory, noeviction)', () => {
  it.skipIf(skipOnPostgresQueue('Redis out of memory: no Redis holds the queues'))(
    'holds the stages without failing a document, and resumes by itself once memory is raised',
    async () => {
      const full = await startTestRedis();
      const admin = new Redis(full.url);
      const p = await startPipeline({
        label: 'faults-redis-full',
        env: {
          REDIS_URL: full.url,
          SLUICE_ATTEMPTS: '3',
          SLUICE_BACKOFF_MS: '200',
          SLUICE_FAULT_INJECTION: 'extract:before:1000',
          // Locks outlive the test's time at maxmemory: a job in hand keeps its lock,
          // so its failure is handled as a failure (not a stall).
          SLUICE_LOCK_DURATION_MS: '30000',
          SLUICE_STALLED_INTERVAL_MS: '15000',
        },
      });
      const turnedBack = countTurnedBack();
      try {
        const summary = await p.ingest([docs.dir]);
        await until('extract jobs in hand', async () => {
          const rows = await p.query("SELECT 1 FROM sluice.documents WHERE status = 'processing'");
          return rows.length > 0;
        });
        // From now on Redis refuses every write that needs memory: the stages in hand
        // cannot queue the next, and no worker can take more.
        await admin.config('SET', 'maxmemory', '1');
        await until('the stages to be turned back by the full Redis', () => turnedBack.n >= 3, {
          timeoutMs: 60_000,
        });
        await admin.config('SET', 'maxmemory', '0');
        const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 60_000, intervalMs: 200 });
        expect(waited.timedOut).toBe(false);
        await expectDoneWithoutSpentAttempts(p);
      } finally {
        turnedBack.stop();
        await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
        admin.disconnect();
        await p.close();
        await full.close();
      }
    },
  );
});

describe('a Postgres outage', () => {
  it('longer than attempts × backoff uses no attempt: every document ends done once it is back', async () => {
    const server = await startTestPostgres(await freePort());
    // 3 tries 200 ms apart would be spent in well under a second of outage.
    const p = await startPipeline({
      label: 'faults-pg-down',
      env: {
        DATABASE_URL: server.url,
        SLUICE_ATTEMPTS: '3',
        SLUICE_BACKOFF_MS: '200',
        SLUICE_FAULT_INJECTION: 'chunk:before:150',
      },
    });
    const turnedBack = countTurnedBack();
    try {
      const summary = await p.ingest([docs.dir]);
      await until('a document to be done', async () => {
        const rows = await p.query("SELECT 1 FROM sluice.documents WHERE status = 'done'");
        return rows.length > 0;
      });
      await server.stop();
      const stoppedAt = Date.now();
      // Down until the stages have been turned back many times more than a job has attempts.
      // With the queues in that Postgres too, workers cannot even fetch a job while it is
      // down: the stages in hand are turned back, and the outage lasts 10 × attempts × backoff.
      const before = turnedBack.n;
      const outlasted =
        TEST_QUEUE === 'postgres'
          ? () => turnedBack.n - before >= 1 && Date.now() - stoppedAt >= 10 * 3 * 200
          : () => turnedBack.n - before >= 30;
      await until('the outage to outlast every attempt', outlasted, { timeoutMs: 60_000 });
      await server.start();
      const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 45_000, intervalMs: 200 });
      expect(waited.timedOut).toBe(false);
      await expectDoneWithoutSpentAttempts(p);
    } finally {
      turnedBack.stop();
      await p.close();
      await server.close();
    }
  });
});

describe('transient and permanent faults', () => {
  it('survives its Postgres connections being terminated twice mid-run', async () => {
    // Each extract holds 150 ms so the run is still going when backends are killed.
    const p = await startPipeline({
      label: 'faults-pg',
      env: { SLUICE_FAULT_INJECTION: 'chunk:before:150' },
    });
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const summary = await p.ingest([docs.dir]);
      let killed = 0;
      for (let round = 0; round < 2; round++) {
        await new Promise((r) => setTimeout(r, 400));
        const res = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1',
          [p.db.name],
        );
        killed += res.rowCount ?? 0;
      }
      expect(killed).toBeGreaterThan(0);
      const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 90_000, intervalMs: 200 });
      expect(waited.timedOut).toBe(false);
      await expectOnlyGarbageFailed((sql) => p.query(sql));
      const retried = await p.query<{ n: string }>(
        `SELECT count(*) AS n FROM sluice.documents WHERE attempts > 1 OR status = 'done'`,
      );
      expect(Number(retried[0]?.n)).toBeGreaterThan(0);
    } finally {
      await admin.end();
      await p.close();
    }
  });

  it.skipIf(skipOnPostgresQueue('Redis stopping and restarting: no Redis holds the queues'))(
    'survives Redis stopping and restarting mid-run (appendonly keeps the queues)',
    async () => {
      const p = await startPipeline({
        label: 'faults-redis',
        env: { REDIS_URL: redis.url, SLUICE_FAULT_INJECTION: 'chunk:before:150' },
      });
      try {
        const summary = await p.ingest([docs.dir]);
        await new Promise((r) => setTimeout(r, 500));
        await redis.stop();
        await new Promise((r) => setTimeout(r, 1500));
        await redis.start();
        const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 90_000, intervalMs: 200 });
        expect(waited.timedOut).toBe(false);
        await expectOnlyGarbageFailed((sql) => p.query(sql));
        const dupes = await p.query(
          'SELECT document_id, ordinal FROM sluice.chunks GROUP BY 1, 2 HAVING count(*) > 1',
        );
        expect(dupes).toEqual([]);
      } finally {
        await p.close();
      }
    },
  );
});

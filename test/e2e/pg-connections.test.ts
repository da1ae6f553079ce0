// Postgres out of connection slots (max_connections reached by other clients):
// workers wait for a slot instead of failing documents, and finish every one
// once connections free up. A private cluster with a small max_connections.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, spawnWorker, waitExit } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/db.ts';
import { startPgCluster, type TestPgCluster } from '../helpers/pg-cluster.ts';
import { until } from '../helpers/until.ts';

const DOCS = 8;
let cluster: TestPgCluster;
let scratch: ReturnType<typeof scratchDir>;
const eaters: pg.Client[] = [];
const workers: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await startPgCluster({ maxConnections: 12 });
  scratch = scratchDir('pgconn');
});

afterAll(async () => {
  for (const c of eaters) await c.end().catch(() => undefined);
  for (const w of workers) {
    w.kill('SIGKILL');
    await waitExit(w);
  }
  await cluster?.close();
  scratch?.cleanup();
});

const refusals = () => cluster.log().match(/sorry, too many clients already/g)?.length ?? 0;

async function query<T extends object>(sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: cluster.url() });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/** Opens idle connections until the server refuses one: no slot is left. */
async function takeEveryConnection(): Promise<void> {
  for (;;) {
    const c = new pg.Client({ connectionString: cluster.url() });
    try {
      await c.connect();
    } catch (err) {
      expect((err as { code?: string }).code).toBe('53300');
      return;
    }
    eaters.push(c);
  }
}

it('workers started while Postgres has no free connection wait for one, then every document ends done', async () => {
  const env = {
    DATABASE_URL: cluster.url(),
    REDIS_URL: TEST_REDIS_URL,
    SLUICE_QUEUE_PREFIX: uniquePrefix('pgconn'),
    SLUICE_LOG_LEVEL: 'error',
    SLUICE_PG_POOL_MAX: '3',
    SLUICE_BACKOFF_MS: '200',
  };
  expect((await runCli(['migrate'], { env })).code).toBe(0);
  for (let i = 0; i < DOCS; i++) {
    writeFileSync(
      join(scratch.dir, `doc-${i}.txt`),
      `Document ${i} about connection budgets and pools. `.repeat(40),
    );
  }
  const ingested = await runCli(['ingest', scratch.dir], { env });
  expect(ingested.code, ingested.stderr).toBe(0);

  await takeEveryConnection();
  const before = refusals();
  const started = [1, 2].map(() =>
    spawnWorker(env).then((w) => {
      workers.push(w);
      return w;
    }),
  );
  for (const s of started) s.catch(() => undefined); // awaited below; a rejection must not go unhandled first
  // Both workers have been turned away several times: the server is full for them.
  await until('workers refused by the full server', () => refusals() >= before + 6);
  for (const c of eaters.splice(0)) await c.end();

  await Promise.all(started);
  const statuses = await until(
    'every document done or failed',
    async () => {
      const rows = await query<{ status: string; n: string }>(
        'SELECT status, count(*) AS n FROM sluice.documents GROUP BY status',
      );
      const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      return (by.done ?? 0) + (by.failed ?? 0) === DOCS ? by : undefined;
    },
    { timeoutMs: 120_000 },
  );
  expect(statuses).toEqual({ done: DOCS });
});

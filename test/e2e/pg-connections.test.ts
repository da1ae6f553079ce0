// needs a Postgres server: a private cluster with few connections, pg_terminate_backend
// needs a Redis server: workers queue on Redis
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
const QUEUE_PREFIX = uniquePrefix('pgconn');
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

function envFor(): Record<string, string> {
  return {
    DATABASE_URL: cluster.url(),
    REDIS_URL: TEST_REDIS_URL,
    SLUICE_QUEUE_PREFIX: QUEUE_PREFIX,
    SLUICE_LOG_LEVEL: 'error',
    SLUICE_PG_POOL_MAX: '3',
    SLUICE_BACKOFF_MS: '200',
    // One attempt: a refusal that reached a job would fail its document at once.
    SLUICE_ATTEMPTS: '1',
  };
}

async function statuses(): Promise<Record<string, number>> {
  const rows = await query<{ status: string; n: string }>(
    'SELECT status, count(*) AS n FROM sluice.documents GROUP BY status',
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

function untilSettled(total: number): Promise<Record<string, number>> {
  return until(
    'every document done or failed',
    async () => {
      const by = await statuses();
      return (by.done ?? 0) + (by.failed ?? 0) === total ? by : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

it('workers started while Postgres has no free connection wait for one, then every document ends done', async () => {
  const env = envFor();
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
  let exitedEarly = false; // a worker that gave up on the full server: Promise.all below says why
  for (const s of started) s.catch(() => (exitedEarly = true));
  // Both workers have been turned away several times: the server is full for them.
  await until('workers refused by the full server', () => exitedEarly || refusals() >= before + 6);
  for (const c of eaters.splice(0)) await c.end();

  await Promise.all(started);
  expect(await untilSettled(DOCS)).toEqual({ done: DOCS });
});

it('running workers whose connections are taken wait for a slot: no document fails, none spends an attempt', async () => {
  // The two workers of the test above are still running, idle.
  const env = envFor();
  await takeEveryConnection();
  // The workers' idle connections go too (as when a pooler or a restart drops them):
  // every job now needs a new connection from a full server.
  await eaters[0]!.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sluice' AND pid <> pg_backend_pid()`,
  );
  await until('the freed slots taken', async () => {
    await takeEveryConnection();
    const [r] = (
      await eaters[0]!.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'sluice'`,
      )
    ).rows;
    return Number(r?.n) === 0;
  });
  for (let i = DOCS; i < 2 * DOCS; i++) {
    writeFileSync(
      join(scratch.dir, `doc-${i}.txt`),
      `Document ${i}, queued while the server is full. `.repeat(40),
    );
  }
  const before = refusals();
  const ingesting = runCli(['ingest', scratch.dir], { env, timeoutMs: 150_000 });
  await until('ingest and workers refused by the full server', () => refusals() >= before + 6);
  for (const c of eaters.splice(0)) await c.end();
  const ingested = await ingesting;
  expect(ingested.code, ingested.stderr).toBe(0);
  expect(await untilSettled(2 * DOCS)).toEqual({ done: 2 * DOCS });
  const [attempts] = await query<{ max: number }>('SELECT max(attempts) AS max FROM sluice.documents');
  expect(attempts?.max).toBe(1);
});

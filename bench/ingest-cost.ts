// What one ingest costs the services (issue #15): Postgres commits
// (pg_stat_database.xact_commit) and Redis commands (INFO commandstats, on a
// private redis-server so the counts are ours alone) of a first ingest with no
// worker, and the wall time of an unchanged re-ingest of the same files.
//
//   node bench/corpus.ts --out /tmp/pc1000 --count 1000 --seed 42
//   node bench/ingest-cost.ts --dir /tmp/pc1000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { ingestFiles } from '../src/queue/producer.ts';
import { createRuntime } from '../src/queue/runtime.ts';
import { resolveInputs } from '../src/sources/files.ts';
import { ADMIN_URL, createDatabase, dropDatabase } from './lib/db.ts';
import { startPrivateRedis, stop } from './lib/procs.ts';

const { values } = parseArgs({ options: { dir: { type: 'string', default: '/tmp/pc1000' } } });
const dir = values.dir as string;
const name = `sluice_bench_${process.pid}_ingest`;
const scratch = mkdtempSync(join(tmpdir(), 'sluice-ingest-cost-'));

async function adminQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Commits of the database once every backend on it has exited (a backend flushes its stats on exit). */
async function commitsWhenIdle(): Promise<number> {
  for (;;) {
    const [busy] = await adminQuery<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
      [name],
    );
    if (Number(busy?.n) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const [row] = await adminQuery<{ c: string }>(
    'SELECT xact_commit AS c FROM pg_stat_database WHERE datname = $1',
    [name],
  );
  return Number(row?.c);
}

/** Commands Redis ran (scripts' inner calls included) and socket reads it processed (~ round trips). */
async function redisCounters(url: string): Promise<{ commands: number; reads: number }> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  try {
    const info = await r.info('commandstats');
    const stats = await r.info('stats');
    const reads = Number(/total_reads_processed:(\d+)/.exec(stats)?.[1]);
    // The INFO call itself is counted from the next read on; both reads include it once.
    if (process.env.BENCH_COMMANDSTATS) console.error(info);
    const commands = [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    return { commands, reads };
  } finally {
    r.disconnect();
  }
}

const redis = await startPrivateRedis(scratch);
if (!redis) throw new Error('redis-server is needed on PATH');
try {
  const dbUrl = await createDatabase(name);
  const env = {
    DATABASE_URL: dbUrl,
    REDIS_URL: redis.url,
    SLUICE_QUEUE_PREFIX: `bench-ingest-${process.pid}`,
    SLUICE_LOG_LEVEL: 'error',
  };
  const config = loadConfig({ env, cwd: '/' });
  const files = await resolveInputs([dir]);

  /** One ingest in a runtime of its own, closed after, so its commits are all flushed. */
  const run = async () => {
    const rt = await createRuntime(config, { log: createLogger('error'), kind: 'producer' });
    const started = performance.now();
    const summary = await ingestFiles(rt, files, { collection: config.collection });
    const ms = performance.now() - started;
    await rt.close();
    return { summary, ms };
  };

  /** Counts what fn's ingest costs. */
  const measure = async () => {
    const c0 = await commitsWhenIdle();
    const r0 = await redisCounters(redis.url);
    const { summary, ms } = await run();
    const c1 = await commitsWhenIdle();
    const r1 = await redisCounters(redis.url);
    const { queued, unchanged, inFlight } = summary;
    // Less the counters' own calls (two INFO commands; a connect and two reads).
    return {
      queued,
      unchanged,
      inFlight,
      ms: Math.round(ms),
      pgCommits: c1 - c0,
      redisCommands: r1.commands - r0.commands - 2,
      redisReads: r1.reads - r0.reads - 3,
    };
  };

  const first = await measure();
  const inFlight = await measure(); // no worker ran: every document is still queued
  // As if a worker had indexed every document: the re-ingest finds them all unchanged.
  const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
  await pool.query("UPDATE sluice.documents SET status = 'done', stage = NULL, indexed_hash = content_hash");
  await pool.end();
  const unchanged = await measure();
  console.log(JSON.stringify({ files: files.length, first, inFlight, unchanged }, null, 2));
} finally {
  await stop(redis.child);
  await dropDatabase(name);
  rmSync(scratch, { recursive: true, force: true });
}

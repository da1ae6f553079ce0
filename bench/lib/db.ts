// Benchmark databases and what we read back from them: one migrated template
// per run, a fresh clone per scenario (so no scenario sees another's embedding
// cache), per-stage timings from sluice.stage_runs, enqueue→searchable latency,
// queue waits between stages, and Postgres write counters per table.
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates `name`; with `template`, as its clone, else migrated from scratch. */
export async function createDatabase(name: string, template?: string): Promise<string> {
  await admin((c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
  const url = dbUrl(name);
  if (!template) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
  }
  return url;
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
}

export interface StageFigures {
  stage: string;
  runs: number;
  skipped: number;
  failed: number;
  /** Sum of stage run durations (busy time, all workers together). */
  busySeconds: number;
  p50Ms: number;
  p95Ms: number;
  /** Mean wait in the queue before this stage started (after the previous stage ended, or after the document row was created: first runs only). */
  meanQueueWaitMs: number;
}

export async function stageFigures(pool: pg.Pool, sinceId = 0): Promise<StageFigures[]> {
  const { rows } = await pool.query<Record<string, string>>(
    `WITH r AS (
       SELECT s.document_id, s.stage, s.outcome, s.duration_ms, s.created_at AS ended,
              s.created_at - make_interval(secs => s.duration_ms / 1000.0) AS started
       FROM sluice.stage_runs s WHERE s.id > $1),
     o AS (
       SELECT r.*, lag(r.ended) OVER (PARTITION BY r.document_id ORDER BY r.ended) AS prev FROM r)
     SELECT o.stage,
       count(*) FILTER (WHERE outcome = 'done') AS runs,
       count(*) FILTER (WHERE outcome = 'skipped') AS skipped,
       count(*) FILTER (WHERE outcome = 'failed') AS failed,
       coalesce(sum(duration_ms), 0) / 1000.0 AS busy,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), 0) AS p50,
       coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), 0) AS p95,
       coalesce(avg(1000 * extract(epoch FROM o.started - coalesce(o.prev, d.created_at))), 0) AS wait
     FROM o JOIN sluice.documents d ON d.id = o.document_id
     GROUP BY o.stage ORDER BY array_position(ARRAY['extract','chunk','embed','load'], o.stage)`,
    [sinceId],
  );
  return rows.map((r) => ({
    stage: r.stage ?? '',
    runs: Number(r.runs),
    skipped: Number(r.skipped),
    failed: Number(r.failed),
    busySeconds: Number(r.busy),
    p50Ms: Number(r.p50),
    p95Ms: Number(r.p95),
    meanQueueWaitMs: Math.max(0, Number(r.wait)),
  }));
}

export async function maxStageRunId(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ m: string | null }>('SELECT max(id) AS m FROM sluice.stage_runs');
  return Number(rows[0]?.m ?? 0);
}

export interface DocFigures {
  done: number;
  failed: number;
  chunks: number;
  p50Seconds: number;
  p95Seconds: number;
  failures: string[];
}

/** Document outcomes and enqueue (created_at) → searchable (indexed_at) latency. */
export async function docFigures(pool: pg.Pool): Promise<DocFigures> {
  const { rows } = await pool.query<Record<string, string>>(
    `SELECT count(*) FILTER (WHERE status = 'done') AS done,
            count(*) FILTER (WHERE status = 'failed') AS failed,
            (SELECT count(*) FROM sluice.chunks) AS chunks,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM indexed_at - created_at)) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM indexed_at - created_at)) AS p95
     FROM sluice.documents`,
  );
  const f = await pool.query<{ uri: string; error_code: string; error_message: string }>(
    `SELECT uri, error_code, error_message FROM sluice.documents WHERE status = 'failed' LIMIT 5`,
  );
  const r = rows[0] ?? {};
  return {
    done: Number(r.done),
    failed: Number(r.failed),
    chunks: Number(r.chunks),
    p50Seconds: Number(r.p50 ?? 0),
    p95Seconds: Number(r.p95 ?? 0),
    failures: f.rows.map((x) => `${x.uri}: ${x.error_code}: ${x.error_message}`.slice(0, 240)),
  };
}

export interface WriteFigures {
  commits: number;
  /** Rows inserted/updated/deleted per table (sluice schema). */
  tables: Record<string, { ins: number; upd: number; del: number }>;
}

/** Postgres write counters of the current database (read after the workers have exited). */
export async function writeFigures(pool: pg.Pool): Promise<WriteFigures> {
  const db = await pool.query<{ x: string }>(
    'SELECT xact_commit AS x FROM pg_stat_database WHERE datname = current_database()',
  );
  const t = await pool.query<{ relname: string; ins: string; upd: string; del: string }>(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del
     FROM pg_stat_user_tables WHERE schemaname = 'sluice' ORDER BY relname`,
  );
  return {
    commits: Number(db.rows[0]?.x ?? 0),
    tables: Object.fromEntries(
      t.rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }]),
    ),
  };
}

export function diffWrites(after: WriteFigures, before: WriteFigures): WriteFigures {
  const tables: WriteFigures['tables'] = {};
  for (const [k, v] of Object.entries(after.tables)) {
    const b = before.tables[k] ?? { ins: 0, upd: 0, del: 0 };
    tables[k] = { ins: v.ins - b.ins, upd: v.upd - b.upd, del: v.del - b.del };
  }
  return { commits: after.commits - before.commits, tables };
}

/** Busy seconds of the extract stage for one mime type, and their count, for the pdftotext comparison. */
export async function extractSecondsByMime(
  pool: pg.Pool,
  mime: string,
): Promise<{ docs: number; seconds: number }> {
  const { rows } = await pool.query<{ n: string; s: string | null }>(
    `SELECT count(*) AS n, sum(s.duration_ms) / 1000.0 AS s FROM sluice.stage_runs s
     JOIN sluice.documents d ON d.id = s.document_id
     WHERE s.stage = 'extract' AND s.outcome = 'done' AND d.mime = $1`,
    [mime],
  );
  return { docs: Number(rows[0]?.n ?? 0), seconds: Number(rows[0]?.s ?? 0) };
}

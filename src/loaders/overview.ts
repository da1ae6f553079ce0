// Read-only queries behind the dashboard overview, `sluice status` and /metrics:
// documents by status, failures, and stage throughput and timings from
// sluice.stage_runs. Everything here reads Postgres only, so it works whichever
// queue backend carries the jobs.
import type { Pool } from '../db/pool.ts';
import { readCounters } from './checkpoints.ts';
import { RETRYABLE } from './document-state.ts';
import type { Stage } from './documents.ts';

export interface StatusCount {
  collection: string;
  status: string;
  n: number;
}

/** Documents per collection and status (one collection, or all with null). */
export async function documentCounts(pool: Pool, collection: string | null = null): Promise<StatusCount[]> {
  const { rows } = await pool.query<{ collection: string; status: string; n: string }>(
    `SELECT collection, status, count(*) AS n FROM sluice.documents
     WHERE $1::text IS NULL OR collection = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [collection],
  );
  return rows.map((r) => ({ collection: r.collection, status: r.status, n: Number(r.n) }));
}

export interface ConfigWait {
  collection: string;
  n: number;
  message: string | null;
}

/** Documents held in flight because the embedder's configuration is wrong, with the reason. */
export async function waitingOnConfig(pool: Pool, collection: string | null = null): Promise<ConfigWait[]> {
  const { rows } = await pool.query<{ collection: string; n: string; msg: string | null }>(
    `SELECT collection, count(*) AS n, max(error_message) AS msg FROM sluice.documents
     WHERE status = 'processing' AND error_code = 'CONFIG_ERROR' AND ($1::text IS NULL OR collection = $1)
     GROUP BY 1 ORDER BY 1`,
    [collection],
  );
  return rows.map((r) => ({ collection: r.collection, n: Number(r.n), message: r.msg }));
}

export interface FailureRow {
  id: number;
  collection: string;
  uri: string;
  /** failed, or stale: the last good version is still served while this failure stands. */
  status: 'failed' | 'stale';
  stage: Stage | null;
  code: string | null;
  message: string | null;
  at: Date;
  /** False for files refused before hashing: those need a fresh ingest, not a retry. */
  retryable: boolean;
  /** The quality gate's score of the extracted text (null before extraction). */
  quality: number | null;
}

export async function recentFailures(
  pool: Pool,
  opts: { collection?: string | null; limit: number },
): Promise<FailureRow[]> {
  const { rows } = await pool.query<{
    id: string;
    collection: string;
    uri: string;
    status: 'failed' | 'stale';
    stage: Stage | null;
    error_code: string | null;
    error_message: string | null;
    updated_at: Date;
    hashed: boolean;
    quality: string | null;
  }>(
    `SELECT id, collection, uri, status, stage, error_code, error_message, updated_at,
            content_hash IS NOT NULL AS hashed, metadata->'quality'->>'score' AS quality
     FROM sluice.documents WHERE status = ANY($3::text[]) AND ($1::text IS NULL OR collection = $1)
     ORDER BY updated_at DESC, id DESC LIMIT $2`,
    [opts.collection ?? null, opts.limit, [...RETRYABLE]],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    collection: r.collection,
    uri: r.uri,
    status: r.status,
    stage: r.stage,
    code: r.error_code,
    message: r.error_message,
    at: r.updated_at,
    retryable: r.hashed,
    quality: r.quality === null ? null : Number(r.quality),
  }));
}

/** Documents indexed although the quality gate judged their text garbage (--accept-low-quality). */
export async function lowQualityAccepted(pool: Pool, collection: string | null = null): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM sluice.documents
     WHERE status = 'done' AND (metadata->'quality'->>'low')::boolean AND ($1::text IS NULL OR collection = $1)`,
    [collection],
  );
  return Number(rows[0]?.n ?? 0);
}

export interface FailureCode {
  collection: string;
  code: string;
  n: number;
  /** How many of them can be retried (the rest need a fresh ingest). */
  retryable: number;
}

/** Failed documents grouped by collection and reason code, most frequent first. */
export async function failureCodes(pool: Pool): Promise<FailureCode[]> {
  const { rows } = await pool.query<{ collection: string; code: string; n: string; r: string }>(
    `SELECT collection, coalesce(error_code, 'UNKNOWN') AS code, count(*) AS n,
            count(*) FILTER (WHERE content_hash IS NOT NULL) AS r
     FROM sluice.documents WHERE status = ANY($1::text[]) GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`,
    [[...RETRYABLE]],
  );
  return rows.map((r) => ({
    collection: r.collection,
    code: r.code,
    n: Number(r.n),
    retryable: Number(r.r),
  }));
}

export interface StageStats {
  /** Runs finished (done or checkpoint skip) over the last 1, 5 and 15 minutes. */
  finished: { m1: number; m5: number; m15: number };
  /** Duration of runs that did work over the last hour, in ms; null when there were none. */
  p50Ms: number | null;
  p95Ms: number | null;
  /** Documents currently failed at this stage. */
  failedDocuments: number;
}

/** How many recent runs the timing queries look at: bounds their cost on a large stage_runs table. */
const RECENT_RUNS = 200_000;

export async function stageStats(pool: Pool): Promise<Record<string, StageStats>> {
  // stage_runs has no index on created_at: the newest RECENT_RUNS ids (primary key
  // range) are scanned instead of the whole table, then filtered by time.
  const runs = await pool.query<{
    stage: string;
    m1: string;
    m5: string;
    m15: string;
    p50: number | null;
    p95: number | null;
  }>(
    `WITH recent AS (
       SELECT stage, outcome, duration_ms, created_at FROM sluice.stage_runs
       WHERE id > (SELECT coalesce(max(id), 0) FROM sluice.stage_runs) - $1
         AND created_at > now() - interval '1 hour')
     SELECT stage,
       count(*) FILTER (WHERE outcome <> 'failed' AND created_at > now() - interval '1 minute') AS m1,
       count(*) FILTER (WHERE outcome <> 'failed' AND created_at > now() - interval '5 minutes') AS m5,
       count(*) FILTER (WHERE outcome <> 'failed' AND created_at > now() - interval '15 minutes') AS m15,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE outcome = 'done') AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE outcome = 'done') AS p95
     FROM recent GROUP BY stage`,
    [RECENT_RUNS],
  );
  const failed = await pool.query<{ stage: string; n: string }>(
    `SELECT coalesce(stage, 'extract') AS stage, count(*) AS n FROM sluice.documents
     WHERE status = ANY($1::text[]) GROUP BY 1`,
    [[...RETRYABLE]],
  );
  const out: Record<string, StageStats> = {};
  const blank = (): StageStats => ({
    finished: { m1: 0, m5: 0, m15: 0 },
    p50Ms: null,
    p95Ms: null,
    failedDocuments: 0,
  });
  for (const r of runs.rows) {
    out[r.stage] = {
      ...blank(),
      finished: { m1: Number(r.m1), m5: Number(r.m5), m15: Number(r.m15) },
      p50Ms: r.p50 === null ? null : Number(r.p50),
      p95Ms: r.p95 === null ? null : Number(r.p95),
    };
  }
  for (const r of failed.rows) out[r.stage] = { ...(out[r.stage] ?? blank()), failedDocuments: Number(r.n) };
  return out;
}

export interface Freshness {
  /** Documents made searchable in the last hour that carried an enqueue time. */
  n: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Enqueue → searchable over the last hour, from the load runs' recorded freshness. */
export async function freshness(pool: Pool): Promise<Freshness> {
  const { rows } = await pool.query<{ n: string; p50: number | null; p95: number | null }>(
    `WITH f AS (
       SELECT (detail->>'freshness_ms')::double precision AS ms FROM sluice.stage_runs
       WHERE id > (SELECT coalesce(max(id), 0) FROM sluice.stage_runs) - $1
         AND stage = 'load' AND detail ? 'freshness_ms' AND created_at > now() - interval '1 hour')
     SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95 FROM f`,
    [RECENT_RUNS],
  );
  const r = rows[0];
  return {
    n: Number(r?.n ?? 0),
    p50Ms: r?.p50 == null ? null : Number(r.p50),
    p95Ms: r?.p95 == null ? null : Number(r.p95),
  };
}

export interface EmbeddingTotals {
  requests: number;
  tokens: number;
  /** Distinct chunk texts embedded. */
  texts: number;
  retries: number;
  /** Requests answered 429. */
  rateLimited: number;
  cacheHits: number;
  cacheMisses: number;
  hitRate: number | null;
}

/** Embedding provider traffic and cache use, totals over every worker since the database was created. */
export async function embeddingTotals(pool: Pool): Promise<EmbeddingTotals> {
  const c = await readCounters(pool);
  const hits = c.embed_cache_hits ?? 0;
  const misses = c.embed_cache_misses ?? 0;
  return {
    requests: c.embed_requests ?? 0,
    tokens: c.embed_tokens ?? 0,
    texts: c.embed_texts ?? 0,
    retries: c.embed_retries ?? 0,
    rateLimited: c.embed_rate_limited ?? 0,
    cacheHits: hits,
    cacheMisses: misses,
    hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
  };
}

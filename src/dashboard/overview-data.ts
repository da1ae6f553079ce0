// Gathers everything the overview shows, from Postgres (documents, stage runs,
// counters) and the queues (depths, workers, oldest waiting job). A queue that
// cannot be read leaves the Postgres part intact: the page says so instead.

import { type BuildStatus, buildStatus } from '../cli/build-status.ts';
import { messageOf } from '../errors.ts';
import {
  type ConfigWait,
  documentCounts,
  type EmbeddingTotals,
  embeddingTotals,
  type FailureCode,
  type FailureRow,
  type Freshness,
  failureCodes,
  freshness,
  recentFailures,
  type StageStats,
  stageStats,
  waitingOnConfig,
} from '../loaders/overview.ts';
import { type SourceSummary, sourceSummaries } from '../loaders/sources.ts';
import { inspectQueues, type StageQueue } from '../queue/inspect.ts';
import { STAGES, type StageName } from '../queue/jobs.ts';
import type { Runtime } from '../queue/runtime.ts';

// Every document status, in the order the overview's columns show them.
export { DOCUMENT_STATUSES as STATUSES } from '../loaders/document-state.ts';

export interface EmbeddingStats extends EmbeddingTotals {
  embedder: string;
  model: string;
}

export interface Overview {
  at: Date;
  documents: Record<string, Record<string, number>>;
  stages: { stage: StageName; queue: StageQueue | null; stats: StageStats }[];
  /** Why the queues could not be read, when they could not. */
  queueError: string | null;
  freshness: Freshness;
  failures: FailureRow[];
  failureCodes: FailureCode[];
  waitingOnConfig: ConfigWait[];
  embedding: EmbeddingStats;
  /** Sources whose deletions the mass-delete guard holds. */
  heldSources: SourceSummary[];
  /** What `sluice status` shows of re-index builds (same function). */
  builds: BuildStatus;
  /** The share of a source one scan may delete before the guard holds it (0-1). */
  deleteGuard: number;
}

export async function loadOverview(rt: Runtime, opts: { failures?: number } = {}): Promise<Overview> {
  const queues = withTimeout(inspectQueues(rt.queues), 3000).then(
    (q) => ({ q, error: null }),
    (err: unknown) => ({ q: null, error: messageOf(err) }),
  );
  const [counts, stats, fresh, failures, codes, waits, totals, qs, sources, builds] = await Promise.all([
    documentCounts(rt.pool),
    stageStats(rt.pool),
    freshness(rt.pool),
    recentFailures(rt.pool, { limit: opts.failures ?? 25 }),
    failureCodes(rt.pool),
    waitingOnConfig(rt.pool),
    embeddingTotals(rt.pool),
    queues,
    sourceSummaries(rt.pool),
    buildStatus(rt.pool, rt.config, null),
  ]);
  const documents: Overview['documents'] = {};
  for (const r of counts) documents[r.collection] = { ...documents[r.collection], [r.status]: r.n };
  return {
    at: new Date(),
    documents,
    stages: STAGES.map((stage) => ({
      stage,
      queue: qs.q?.[stage] ?? null,
      stats: stats[stage] ?? {
        finished: { m1: 0, m5: 0, m15: 0 },
        p50Ms: null,
        p95Ms: null,
        failedDocuments: 0,
      },
    })),
    queueError: qs.error,
    freshness: fresh,
    failures,
    failureCodes: codes,
    waitingOnConfig: waits,
    embedding: { embedder: rt.embedder.id, model: rt.embedder.model, ...totals },
    heldSources: sources.filter((src) => src.heldDeletes > 0),
    builds,
    deleteGuard: rt.config.deleteGuard,
  };
}

/** Rejects after ms: a Redis that is down must not hang the page. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

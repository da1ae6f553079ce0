// /metrics in Prometheus text format (prom-client). Two kinds of series:
// - this process's own work, observed as it happens: stage jobs by outcome,
//   stage durations, enqueue → searchable freshness (where workers run);
// - the shared state, read at scrape time: documents by collection and status,
//   queue depth, workers and oldest waiting job per stage, and the embedding
//   provider/cache totals kept in sluice.counters. These are the same on every
//   process: aggregate them with max(), not sum().
// Names follow Prometheus conventions: sluice_ prefix, base units, _total counters.
import type { Counter, Gauge, Registry } from 'prom-client';
import { readCounters } from '../loaders/checkpoints.ts';
import { documentCounts, type StatusCount } from '../loaders/overview.ts';
import { heldDeletionsBySource } from '../loaders/sources.ts';
import { inspectQueues, type StageQueue } from '../queue/inspect.ts';
import type { StageName } from '../queue/jobs.ts';
import type { Runtime } from '../queue/runtime.ts';
import { addStageRunSink } from '../queue/telemetry.ts';
import { withTimeout } from './overview-data.ts';

export interface Metrics {
  contentType: string;
  render(): Promise<string>;
  /** Stops observing stage runs. */
  close(): void;
}

interface Snapshot {
  documents: StatusCount[] | null;
  queues: Record<StageName, StageQueue> | null;
  counters: Record<string, number> | null;
  held: { source: string; collection: string; held: number }[] | null;
}

/** Counters in sluice.counters → exported counter names. */
const COUNTERS: Record<string, [string, string]> = {
  embed_requests: ['sluice_embed_requests_total', 'Requests sent to the embedding provider.'],
  embed_tokens: ['sluice_embed_tokens_total', 'Tokens sent to the embedding provider.'],
  embed_texts: ['sluice_embed_texts_total', 'Distinct chunk texts embedded.'],
  embed_retries: ['sluice_embed_retries_total', 'Embedding requests retried after a transient error.'],
  embed_rate_limited: ['sluice_embed_rate_limited_total', 'Embedding requests answered 429 by the provider.'],
  embed_cache_hits: ['sluice_embed_cache_hits_total', 'Chunks whose vector came from the embedding cache.'],
  embed_cache_misses: ['sluice_embed_cache_misses_total', 'Chunks that had to be embedded.'],
};

export async function createMetrics(rt: Runtime): Promise<Metrics> {
  const prom = await import('prom-client');
  const registry: Registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry, prefix: 'sluice_' });
  // A few of prom-client's process gauges end in _total, which the naming lint (promtool) rejects.
  for (const m of registry.getMetricsAsArray()) {
    if (!(m instanceof prom.Counter) && m.name.endsWith('_total')) registry.removeSingleMetric(m.name);
  }

  const jobs = new prom.Counter({
    name: 'sluice_stage_jobs_total',
    help: 'Stage runs finished by this process, by outcome (done, skipped, superseded, failed, retry, deferred).',
    labelNames: ['stage', 'outcome'],
    registers: [registry],
  });
  const durations = new prom.Histogram({
    name: 'sluice_stage_duration_seconds',
    help: 'Duration of stage runs in this process.',
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const fresh = new prom.Histogram({
    name: 'sluice_freshness_seconds',
    help: 'Time from enqueue to searchable, for documents loaded by this process.',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
    registers: [registry],
  });
  const remove = addStageRunSink((run) => {
    const stop = durations.startTimer({ stage: run.stage });
    return (end) => {
      stop();
      jobs.inc({ stage: run.stage, outcome: end.outcome });
      if (end.freshnessMs !== undefined) fresh.observe(end.freshnessMs / 1000);
    };
  });

  // One read of the shared state per scrape, shared by every collector of that scrape.
  const orNull = <T>(p: Promise<T>) => withTimeout(p, 3000).catch(() => null);
  const readShared = (): Promise<Snapshot> =>
    Promise.all([
      orNull(documentCounts(rt.pool)),
      orNull(inspectQueues(rt.queues)),
      orNull(readCounters(rt.pool)),
      orNull(heldDeletionsBySource(rt.pool, null)),
    ]).then(([documents, queues, counters, held]) => ({ documents, queues, counters, held }));
  let current: Promise<Snapshot> | undefined;
  const snapshot = (): Promise<Snapshot> => {
    current ??= readShared();
    return current;
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Snapshot) => void) =>
    new prom.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        fill(this, s);
      },
    });
  gauge('sluice_up', 'Whether this process can read each shared store (1) or not (0).', ['store'], (g, s) => {
    g.set({ store: 'postgres' }, s.documents && s.counters ? 1 : 0);
    g.set({ store: 'queue' }, s.queues ? 1 : 0);
  });
  gauge('sluice_documents', 'Documents by collection and status.', ['collection', 'status'], (g, s) => {
    for (const r of s.documents ?? []) g.set({ collection: r.collection, status: r.status }, r.n);
  });
  gauge(
    'sluice_deletions_held',
    'Deletions the mass-delete guard holds, per source (sluice sources approve-deletes|discard-deletes).',
    ['source', 'collection'],
    (g, s) => {
      for (const h of s.held ?? []) g.set({ source: h.source, collection: h.collection }, h.held);
    },
  );
  const perStage = (
    name: string,
    help: string,
    labels: string[],
    pick: (q: StageQueue, g: Gauge, stage: string) => void,
  ) =>
    gauge(name, help, labels, (g, s) => {
      for (const [stage, q] of Object.entries(s.queues ?? {})) pick(q, g, stage);
    });
  perStage('sluice_queue_jobs', 'Jobs in each stage queue by state.', ['stage', 'state'], (q, g, stage) => {
    for (const state of ['waiting', 'active', 'delayed', 'failed'] as const)
      g.set({ stage, state }, q[state]);
  });
  perStage('sluice_queue_workers', 'Workers consuming each stage queue.', ['stage'], (q, g, stage) =>
    g.set({ stage }, q.workers),
  );
  perStage(
    'sluice_queue_oldest_waiting_job_age_seconds',
    'How long the oldest job waiting in each stage queue has waited (0 when none waits).',
    ['stage'],
    (q, g, stage) => g.set({ stage }, (q.oldestWaitingMs ?? 0) / 1000),
  );
  for (const [key, [name, help]] of Object.entries(COUNTERS)) {
    new prom.Counter({
      name,
      help: `${help} Totals over all workers, from sluice.counters.`,
      registers: [registry],
      async collect() {
        const value = (await snapshot()).counters?.[key];
        this.reset();
        if (value !== undefined) (this as Counter).inc(value);
      },
    });
  }

  return {
    contentType: registry.contentType,
    async render() {
      current = readShared();
      try {
        return await registry.metrics();
      } finally {
        current = undefined;
      }
    },
    close: remove,
  };
}

// A whole sluice pipeline for one test file: its own database, queue prefix,
// runtime and in-process workers, plus helpers to ingest and wait.
import { type Config, loadConfig } from '../../src/config.ts';
import type { Embedder } from '../../src/embedders/types.ts';
import { buildMissingIndexes } from '../../src/loaders/pgvector.ts';
import { createLogger } from '../../src/log.ts';
import { identityKey } from '../../src/queue/identity.ts';
import { STAGES, type StageName } from '../../src/queue/jobs.ts';
import { type IngestSummary, ingestFiles, waitForDocuments } from '../../src/queue/producer.ts';
import { createRuntime, type Runtime } from '../../src/queue/runtime.ts';
import { startWorkers, type WorkerSet } from '../../src/queue/supervisor.ts';
import { resolveInputs } from '../../src/sources/files.ts';
import {
  createTestDatabase,
  queueEnv,
  TEST_QUEUE,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestQueue,
  uniquePrefix,
} from './db.ts';

export interface TestPipeline {
  db: TestDatabase;
  config: Config;
  /** Environment that points a child `sluice` process at this pipeline. */
  env: Record<string, string>;
  rt: Runtime;
  workers?: WorkerSet;
  ingest(inputs: string[], opts?: { force?: boolean; collection?: string }): Promise<IngestSummary>;
  /** Ingests and waits until none of the documents is queued or processing. */
  ingestAndWait(
    inputs: string[],
    opts?: { force?: boolean; collection?: string; timeoutMs?: number },
  ): Promise<IngestSummary>;
  query<T extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface PipelineOptions {
  label: string;
  env?: Record<string, string>;
  embedder?: Embedder;
  /** Stages to run in-process (default all; [] for none, e.g. when child workers do the work). */
  stages?: StageName[];
  concurrency?: number;
  /** Queue backend (default SLUICE_TEST_QUEUE's: Redis, or Postgres with REDIS_URL unset). */
  queue?: TestQueue;
  /** Another pipeline's database, shared (it is dropped by its owner, not by this pipeline). */
  database?: TestDatabase;
}

export async function startPipeline(opts: PipelineOptions): Promise<TestPipeline> {
  const db = opts.database ?? (await createTestDatabase());
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    ...queueEnv(opts.queue ?? TEST_QUEUE),
    SLUICE_QUEUE_PREFIX: uniquePrefix(opts.label),
    SLUICE_LOG_LEVEL: 'error',
    SLUICE_BACKOFF_MS: '200',
    SLUICE_LOCK_DURATION_MS: '3000',
    SLUICE_STALLED_INTERVAL_MS: '1500',
    ...opts.env,
  };
  const config = loadConfig({ env, cwd: '/' });
  const rt = await createRuntime(config, {
    log: createLogger(config.logLevel),
    ...(opts.embedder ? { embedder: opts.embedder } : {}),
  });
  const queue = opts.queue ?? TEST_QUEUE;
  if (rt.queue.kind !== queue) throw new Error(`expected the ${queue} queue backend, got ${rt.queue.kind}`);
  const stages = opts.stages ?? [...STAGES];
  const workers =
    stages.length > 0 ? await startWorkers(rt, stages, { concurrency: opts.concurrency ?? 4 }) : undefined;
  const ingest = async (inputs: string[], o: { force?: boolean; collection?: string } = {}) =>
    ingestFiles(rt, await resolveInputs(inputs), {
      collection: o.collection ?? config.collection,
      force: o.force === true,
    });
  return {
    db,
    config,
    env,
    rt,
    ...(workers ? { workers } : {}),
    ingest,
    async ingestAndWait(inputs, o = {}) {
      const summary = await ingest(inputs, o);
      const waited = await waitForDocuments(rt, summary.waitIds, {
        timeoutMs: o.timeoutMs ?? 60_000,
        intervalMs: 100,
      });
      if (waited.timedOut) throw new Error(`documents still pending after wait: ${JSON.stringify(waited)}`);
      await buildMissingIndexes(rt.sessionPool); // as `ingest --wait` does
      return summary;
    },
    async query(sql, params) {
      const { rows } = await rt.pool.query(sql, params as unknown[]);
      return rows;
    },
    async close() {
      await workers?.close();
      await obliterate(rt);
      await rt.close();
      if (!opts.database) await db.drop();
      if (queue === 'postgres') await assertNoRedisKeys(config.queuePrefix);
    },
  };
}

/** Removes this pipeline's queues and (Redis) its prefix's database binding from the shared store. */
export async function obliterate(rt: Runtime): Promise<void> {
  for (const q of Object.values(rt.queues)) await q.obliterate({ force: true }).catch(() => undefined);
  await rt.redis?.del(identityKey(rt.config.queuePrefix)).catch(() => undefined);
}

/**
 * Waits until no document of the pipeline is queued or processing — also documents
 * created while others were processed (a mail message's attachments), which
 * `ingestAndWait` does not know about.
 */
export async function waitIdle(p: TestPipeline, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await p.query<{ n: string }>(
      "SELECT count(*) AS n FROM sluice.documents WHERE status IN ('queued', 'processing')",
    );
    if (Number(row?.n) === 0) break;
    if (Date.now() > deadline) throw new Error(`${row?.n} document(s) still pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await buildMissingIndexes(p.rt.pool);
}

/**
 * A pipeline on the Postgres queue wrote nothing to the shared test Redis (none
 * reachable: nothing can have been written). Throws naming the keys it finds.
 */
export async function assertNoRedisKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    const connected = await redis.connect().then(
      () => true,
      () => false,
    );
    if (!connected) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) throw new Error(`the Postgres-queue pipeline wrote to Redis: ${keys.join(', ')}`);
  } finally {
    redis.disconnect();
  }
}

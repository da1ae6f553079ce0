// Everything a stage needs at run time, built once per process from config:
// database pool, queues, embedder, extraction threads, and the fingerprints that
// key the checkpoints. Tests build one with their own database and queue prefix.
// The embedder, its batching service and the chunk settings form a pipeline
// (pipeline.ts): the configured one is built up front, and the pipelines of
// collection generations with other settings (a re-index) on first use.
import { type Config, secretsOf } from '../config.ts';
import { connectionError, createPool, type Pool, sessionDatabaseUrl } from '../db/pool.ts';
import type { Embedder } from '../embedders/types.ts';
import { SluiceError, sqlStateOf } from '../errors.ts';
import { EXTRACTORS } from '../extractors/index.ts';
import { checkOcrInstalled } from '../extractors/pdf-ocr.ts';
import type { ExtractLimits } from '../extractors/types.ts';
import { bumpCounters } from '../loaders/checkpoints.ts';
import { type GenerationInfo, getGeneration } from '../loaders/generations.ts';
import { type CollectionInfo, ensureCollection } from '../loaders/pgvector.ts';
import { createLogger, type Logger } from '../log.ts';
import type { ChunkOptions } from '../transforms/chunk.ts';
import { connectQueueBackend, type QueueBackend } from './backend.ts';
import type { RedisClient } from './connection.ts';
import type { EmbedService } from './embed-service.ts';
import { claimQueuePrefix, databaseIdentity, keepQueuePrefix } from './identity.ts';
import { configFor, createPipeline, type Pipeline, type PipelineSettings, settingsKey } from './pipeline.ts';
import { closeQueues, createQueues, type Queues } from './queues.ts';
import type { RateLimiter } from './rate-limit.ts';
import { createThreadPool, type ThreadPool } from './thread-pool.ts';

export interface Runtime {
  config: Config;
  pool: Pool;
  /**
   * For work that needs one session for a while (index builds): a small pool on
   * SLUICE_DIRECT_DATABASE_URL when set, else `pool` itself.
   */
  sessionPool: Pool;
  /** Where the queues live (backend.ts): Redis when REDIS_URL is set, else Postgres. */
  queue: QueueBackend;
  /** The Redis client in Redis mode; undefined when the queues are in Postgres. */
  redis: RedisClient | undefined;
  queues: Queues;
  embedder: Embedder;
  embedService: EmbedService;
  /** The shared provider budget (SLUICE_EMBED_RPM/TPM); undefined when neither is set. */
  limiter: RateLimiter | undefined;
  threads: ThreadPool;
  log: Logger;
  limits: ExtractLimits;
  /** Chunking settings, with the embedder's tokenizer and input limit when it has them. */
  chunkOptions: Omit<ChunkOptions, 'lengthFunction' | 'countTokens'>;
  /**
   * Checkpoint keys: change when the settings that shape a stage's output change.
   * `modelKey` needs the vector width: call resolveEmbedder() (or collection()) first.
   */
  fingerprints: { extract: string; chunk: string; readonly modelKey: string };
  /** Learns the width of a model not in the tables (one probe request), once per process. */
  resolveEmbedder(): Promise<void>;
  /** Creates the collection on first use; DIMENSION_MISMATCH if the configured embedder is not one it is kept in. */
  collection(name: string): Promise<CollectionInfo>;
  /** The generation a job works for (its own, or the active one) and the pipeline built with its settings. */
  pipelineFor(p: { collection: string; generation?: number | undefined }): Promise<{
    pipeline: Pipeline;
    generation: GenerationInfo;
  }>;
  /** The pipeline of a configuration (e.g. config plus `reindex` flags), shared with equal settings. */
  pipelineFromConfig(config: Config): Promise<Pipeline>;
  /**
   * Provider traffic since the last call (requests, tokens, retries, 429s), named
   * as sluice.counters rows; the embed stage adds them to the shared counters.
   */
  takeEmbedCounters(): Record<string, number>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  log?: Logger;
  /** Overrides for tests (e.g. an embedder pointed at a test server). */
  embedder?: Embedder;
  kind?: 'producer' | 'worker';
}

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const ocr =
    config.ocr === 'auto'
      ? {
          langs: config.ocrLangs.split('+'),
          pageTimeoutMs: config.ocrPageTimeoutMs,
          maxPages: config.ocrMaxPages,
        }
      : undefined;
  // A worker with OCR on but its packages missing fails at start, not once per scanned document.
  if (ocr && (opts.kind ?? 'worker') === 'worker') checkOcrInstalled(ocr.langs);
  const log = opts.log ?? createLogger(config.logLevel, { secrets: secretsOf(config) });
  const kind = opts.kind ?? 'worker';
  // One warning per minute at most while Postgres refuses connections (full or starting up).
  let refusedLoggedAt = 0;
  const onRefused = (err: Error) => {
    if (Date.now() - refusedLoggedAt < 60_000) return;
    refusedLoggedAt = Date.now();
    log.warn(
      `Postgres refused a connection (${err.message}); waiting for one to free up. Keep workers × SLUICE_PG_POOL_MAX (${config.pgPoolMax}) below its max_connections.`,
    );
  };
  const pool = createPool(config.databaseUrl, { max: config.pgPoolMax, refusedWaitMs: 120_000, onRefused });
  const directUrl = sessionDatabaseUrl(config);
  const sessionPool =
    directUrl === config.databaseUrl
      ? pool
      : createPool(directUrl, { max: 3, refusedWaitMs: 120_000, onRefused });
  const endPools = async () => {
    await pool.end().catch(() => undefined);
    if (sessionPool !== pool) await sessionPool.end().catch(() => undefined);
  };
  const queue = await connectQueueBackend(config, { kind }).catch(async (err: unknown) => {
    await endPools();
    throw err;
  });
  const redis = queue.redis;
  const prefixGuard = await bindQueuePrefix(config, queue, pool, kind, log).catch(async (err: unknown) => {
    await queue.close().catch(() => undefined);
    await endPools();
    throw err;
  });
  const threads = createThreadPool({
    threads: config.extractThreads,
    timeoutMs: config.extractTimeoutMs,
    memoryMb: config.extractMemoryMb,
  });
  const queues = createQueues(queue, config.attempts);
  const limits: ExtractLimits = {
    maxBytes: config.maxFileBytes,
    maxPages: config.maxPages,
    maxDecompressedBytes: config.maxDecompressedBytes,
    maxCompressionRatio: 200,
    maxTextChars: 50_000_000,
  };
  if (ocr) limits.ocr = ocr;
  // OCR changes what extraction returns, so it is part of the checkpoint key.
  const ocrKey = limits.ocr ? `;ocr=${config.ocrLangs}:${config.ocrMaxPages}` : '';
  const extract = `x1;${EXTRACTORS.map((e) => `${e.name}@${e.version}`).join(',')};pages=${limits.maxPages}${ocrKey}`;
  // A provider that cannot start (bad settings, optional package missing) must not
  // leave the connections above open: the CLI would print its error and never exit.
  const base = await createPipeline(config, queue, extract, opts.embedder).catch(async (err: unknown) => {
    prefixGuard?.stop();
    await closeQueues(queues).catch(() => undefined);
    await queue.close().catch(() => undefined);
    await endPools();
    await threads.close().catch(() => undefined);
    throw err;
  });
  const all: Pipeline[] = [base];
  const bySettings = new Map<string, Promise<Pipeline>>();
  const baseKey = async () => {
    await base.resolveEmbedder();
    return settingsKey(base.settings());
  };
  const adopt = async (key: string, make: () => Promise<Pipeline>): Promise<Pipeline> => {
    if (key === (await baseKey())) return base;
    let pl = bySettings.get(key);
    if (!pl) {
      pl = make().then((made) => {
        all.push(made);
        return made;
      });
      pl.catch(() => bySettings.delete(key));
      bySettings.set(key, pl);
    }
    return pl;
  };
  const pipelineWith = (s: PipelineSettings): Promise<Pipeline> =>
    adopt(settingsKey(s), async () => {
      const made = await createPipeline(configFor(config, s), queue, extract);
      await made.resolveEmbedder();
      return made;
    });
  const takeEmbedCounters = (): Record<string, number> => {
    const sum: Record<string, number> = {};
    for (const pl of all)
      for (const [k, v] of Object.entries(pl.takeEmbedCounters())) sum[k] = (sum[k] ?? 0) + v;
    return sum;
  };
  const collections = new Map<string, Promise<CollectionInfo>>();
  const collection = (name: string): Promise<CollectionInfo> => {
    let info = collections.get(name);
    if (!info) {
      info = base.resolveEmbedder().then(() =>
        ensureCollection(pool, {
          name,
          embedder: base.embedder.id,
          model: base.embedder.model,
          dimensions: base.embedder.dimensions,
          fingerprint: {
            extract,
            chunk: base.chunkOptions,
            modelKey: base.fingerprints.modelKey,
            requestDimensions: config.embedDimensions ?? null,
          },
        }),
      );
      info.catch(() => collections.delete(name));
      collections.set(name, info);
    }
    return info;
  };

  return {
    config,
    pool,
    sessionPool,
    queue,
    redis,
    queues,
    embedder: base.embedder,
    embedService: base.embedService,
    limiter: base.limiter,
    threads,
    log,
    limits,
    chunkOptions: base.chunkOptions,
    fingerprints: base.fingerprints,
    resolveEmbedder: base.resolveEmbedder,
    takeEmbedCounters,
    collection,
    async pipelineFor(p) {
      let generation = await getGeneration(pool, p.collection, p.generation);
      if (!generation && p.generation === undefined) {
        await collection(p.collection); // a job for a collection no producer created (e.g. restored Redis)
        generation = await getGeneration(pool, p.collection);
      }
      if (!generation) {
        throw new SluiceError(
          'INTERNAL',
          `collection "${p.collection}" has no generation ${p.generation ?? '(active)'}`,
          { retryable: false },
        );
      }
      const pipeline = await pipelineWith({
        embedder: generation.embedder,
        model: generation.model,
        dimensions: generation.dimensions,
        chunkSize: generation.chunkSize,
        chunkOverlap: generation.chunkOverlap,
        requestDimensions: generation.requestDimensions,
      });
      return { pipeline, generation };
    },
    async pipelineFromConfig(cfg) {
      const made = await createPipeline(cfg, queue, extract);
      try {
        await made.resolveEmbedder();
      } catch (err) {
        await made.close().catch(() => undefined);
        throw err;
      }
      const kept = await adopt(settingsKey(made.settings()), async () => made);
      if (kept !== made) await made.close();
      return kept;
    },
    async close() {
      prefixGuard?.stop();
      await threads.close();
      for (const pl of all) await pl.embedService.close();
      // Traffic not yet reported by a finished embed job (e.g. the request that met a bad key).
      await bumpCounters(pool, takeEmbedCounters()).catch(() => undefined);
      for (const pl of all) await pl.close();
      await closeQueues(queues);
      await queue.close();
      await pool.end();
      if (sessionPool !== pool) await sessionPool.end();
    },
  };
}

/**
 * Binds the queue prefix to this database (identity.ts): refuses another database's
 * prefix; a worker keeps the binding written while it runs (Redis may lose it).
 * Queues in Postgres live in this database: bound by construction, nothing to claim.
 */
async function bindQueuePrefix(
  config: Config,
  queue: QueueBackend,
  pool: Pool,
  kind: 'producer' | 'worker',
  log: Logger,
): Promise<{ stop(): void } | undefined> {
  const redis = queue.redis;
  if (!redis) return undefined;
  const own = await databaseIdentity(pool, config.databaseUrl).catch((err: unknown) => {
    // A SQLSTATE is Postgres answering; anything else is not reaching it.
    throw sqlStateOf(err) ? err : connectionError(err, config.databaseUrl);
  });
  await claimQueuePrefix(redis, config.queuePrefix, own);
  if (kind === 'producer') return undefined;
  return keepQueuePrefix(redis, config.queuePrefix, own, {
    intervalMs: 5000,
    // Another database took the prefix while Redis had lost it; a Redis outage is logged elsewhere.
    onError: (err) => {
      if ((err as { code?: unknown }).code === 'CONFIG_ERROR') log.error((err as Error).message);
    },
  });
}

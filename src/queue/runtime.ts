// Everything a stage needs at run time, built once per process from config:
// database pool, queues, embedder, extraction threads, and the fingerprints that
// key the checkpoints. Tests build one with their own database and queue prefix.
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { createPool, type Pool } from '../db/pool.ts';
import { createEmbedder } from '../embedders/index.ts';
import type { Embedder } from '../embedders/types.ts';
import { EXTRACTORS } from '../extractors/index.ts';
import type { ExtractLimits } from '../extractors/types.ts';
import { type CollectionInfo, ensureCollection } from '../loaders/pgvector.ts';
import { createLogger, type Logger } from '../log.ts';
import { chunkFingerprint } from '../transforms/chunk.ts';
import { createEmbedService, type EmbedService } from './embed-service.ts';
import { closeQueues, connectRedis, createQueues, type Queues } from './queues.ts';
import { createThreadPool, type ThreadPool } from './thread-pool.ts';

export interface Runtime {
  config: Config;
  pool: Pool;
  redis: Redis;
  queues: Queues;
  embedder: Embedder;
  embedService: EmbedService;
  threads: ThreadPool;
  log: Logger;
  limits: ExtractLimits;
  /** Checkpoint keys: change when the settings that shape a stage's output change. */
  fingerprints: { extract: string; chunk: string; modelKey: string };
  collection(name: string): Promise<CollectionInfo>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  log?: Logger;
  /** Overrides for tests (e.g. an embedder pointed at a test server). */
  embedder?: Embedder;
  kind?: 'producer' | 'worker';
}

export function secretsOf(config: Config): string[] {
  const secrets = [config.openaiApiKey, config.dashboardToken];
  for (const url of [config.databaseUrl, config.redisUrl]) {
    try {
      const p = new URL(url).password;
      if (p) secrets.push(decodeURIComponent(p));
    } catch {
      // not a URL: nothing to hide
    }
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
}

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const log = opts.log ?? createLogger(config.logLevel, { secrets: secretsOf(config) });
  const redis = await connectRedis(config.redisUrl, opts.kind ?? 'worker');
  const pool = createPool(config.databaseUrl, { max: 10 });
  const embedder = opts.embedder ?? (await createEmbedder(config));
  const embedService = createEmbedService({ embedder, maxRetries: config.attempts });
  const threads = createThreadPool({
    threads: config.extractThreads,
    timeoutMs: config.extractTimeoutMs,
    memoryMb: config.extractMemoryMb,
  });
  const queues = createQueues(redis, config.queuePrefix, config.attempts);
  const limits: ExtractLimits = {
    maxBytes: config.maxFileBytes,
    maxPages: config.maxPages,
    maxDecompressedBytes: config.maxDecompressedBytes,
    maxCompressionRatio: 200,
    maxTextChars: 50_000_000,
  };
  const extract = `x1;${EXTRACTORS.map((e) => `${e.name}@${e.version}`).join(',')};pages=${limits.maxPages}`;
  const chunkOpts = { size: config.chunkSize, overlap: config.chunkOverlap };
  const chunk = `${extract}|${chunkFingerprint(chunkOpts)}`;
  const modelKey = `${embedder.id}:${embedder.model}:${embedder.dimensions}`;
  const collections = new Map<string, Promise<CollectionInfo>>();

  return {
    config,
    pool,
    redis,
    queues,
    embedder,
    embedService,
    threads,
    log,
    limits,
    fingerprints: { extract, chunk, modelKey },
    collection(name) {
      let info = collections.get(name);
      if (!info) {
        info = ensureCollection(pool, {
          name,
          embedder: embedder.id,
          model: embedder.model,
          dimensions: embedder.dimensions,
          fingerprint: { extract, chunk: chunkOpts, modelKey },
        });
        info.catch(() => collections.delete(name));
        collections.set(name, info);
      }
      return info;
    },
    async close() {
      await threads.close();
      await embedService.close();
      await embedder.close?.();
      await closeQueues(queues);
      await pool.end();
      redis.disconnect();
    },
  };
}

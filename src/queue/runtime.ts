// Everything a stage needs at run time, built once per process from config:
// database pool, queues, embedder, extraction threads, and the fingerprints that
// key the checkpoints. Tests build one with their own database and queue prefix.
// The embed service gets the shared Redis rate limiter when SLUICE_EMBED_RPM/TPM
// are set, and chunking gets the embedder's tokenizer and input limit.
import type { Redis } from 'ioredis';
import { type Config, secretsOf } from '../config.ts';
import { createPool, type Pool } from '../db/pool.ts';
import { createEmbedder } from '../embedders/index.ts';
import type { Embedder } from '../embedders/types.ts';
import { SluiceError } from '../errors.ts';
import { EXTRACTORS } from '../extractors/index.ts';
import { checkOcrInstalled } from '../extractors/pdf-ocr.ts';
import type { ExtractLimits } from '../extractors/types.ts';
import { bumpCounters } from '../loaders/checkpoints.ts';
import { type CollectionInfo, ensureCollection } from '../loaders/pgvector.ts';
import { createLogger, type Logger } from '../log.ts';
import { type ChunkOptions, chunkFingerprint } from '../transforms/chunk.ts';
import { createEmbedService, type EmbedService } from './embed-service.ts';
import { closeQueues, connectRedis, createQueues, type Queues } from './queues.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';
import { createThreadPool, type ThreadPool } from './thread-pool.ts';

export interface Runtime {
  config: Config;
  pool: Pool;
  redis: Redis;
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
  collection(name: string): Promise<CollectionInfo>;
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
  const redis = await connectRedis(config.redisUrl, opts.kind ?? 'worker');
  const pool = createPool(config.databaseUrl, { max: 10 });
  const embedder = opts.embedder ?? (await createEmbedder(config));
  // One budget per provider+model, shared through Redis by every worker using this queue prefix.
  const limited = config.embedRequestsPerMin !== undefined || config.embedTokensPerMin !== undefined;
  const limiter = limited
    ? createRateLimiter({
        redis,
        prefix: config.queuePrefix,
        key: `${embedder.id}:${embedder.model}`,
        requestsPerWindow: config.embedRequestsPerMin,
        tokensPerWindow: config.embedTokensPerMin,
        windowMs: 60_000,
      })
    : undefined;
  const embedService = createEmbedService({
    embedder,
    limiter,
    maxRetries: config.attempts,
    // Matches the worker's 30 s deferral of a configuration error: jobs that reach
    // the service meanwhile get the same answer without another rejected request.
    configErrorHoldMs: 30_000,
  });
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
  if (ocr) limits.ocr = ocr;
  // OCR changes what extraction returns, so it is part of the checkpoint key.
  const ocrKey = limits.ocr ? `;ocr=${config.ocrLangs}:${config.ocrMaxPages}` : '';
  const extract = `x1;${EXTRACTORS.map((e) => `${e.name}@${e.version}`).join(',')};pages=${limits.maxPages}${ocrKey}`;
  const chunkOpts: Runtime['chunkOptions'] = { size: config.chunkSize, overlap: config.chunkOverlap };
  if (embedder.tokenizer !== undefined) {
    chunkOpts.tokenizer = embedder.tokenizer;
    // No chunk larger than the model takes, nor than one request or the token budget can carry.
    const caps = [embedder.maxInputTokens, embedder.maxBatchTokens, config.embedTokensPerMin];
    const known = caps.filter((n): n is number => n !== undefined);
    if (known.length > 0) chunkOpts.maxTokens = Math.min(...known);
  }
  const chunk = `${extract}|${chunkFingerprint(chunkOpts)}`;
  let resolving: Promise<void> | undefined;
  const resolveEmbedder = (): Promise<void> => {
    if (embedder.dimensions > 0 || !embedder.resolveDimensions) return Promise.resolve();
    resolving ??= embedder.resolveDimensions().then(
      () => undefined,
      (err: unknown) => {
        resolving = undefined;
        throw err;
      },
    );
    return resolving;
  };
  const fingerprints = {
    extract,
    chunk,
    get modelKey(): string {
      if (embedder.dimensions <= 0) {
        // A key with width 0 would file vectors under the wrong cache entry.
        throw new SluiceError(
          'INTERNAL',
          `the width of ${embedder.id} model "${embedder.model}" is unknown yet`,
        );
      }
      return `${embedder.id}:${embedder.model}:${embedder.dimensions}`;
    },
  };
  const sent = { requests: 0, tokens: 0, retries: 0, rateLimited: 0 };
  const takeEmbedCounters = (): Record<string, number> => {
    const s = embedService.stats();
    const delta = {
      embed_requests: s.requests - sent.requests,
      embed_tokens: s.tokens - sent.tokens,
      embed_retries: s.retries - sent.retries,
      embed_rate_limited: s.rateLimited - sent.rateLimited,
    };
    Object.assign(sent, {
      requests: s.requests,
      tokens: s.tokens,
      retries: s.retries,
      rateLimited: s.rateLimited,
    });
    return delta;
  };
  const collections = new Map<string, Promise<CollectionInfo>>();

  return {
    config,
    pool,
    redis,
    queues,
    embedder,
    embedService,
    limiter,
    threads,
    log,
    limits,
    chunkOptions: chunkOpts,
    fingerprints,
    resolveEmbedder,
    takeEmbedCounters,
    collection(name) {
      let info = collections.get(name);
      if (!info) {
        info = resolveEmbedder().then(() =>
          ensureCollection(pool, {
            name,
            embedder: embedder.id,
            model: embedder.model,
            dimensions: embedder.dimensions,
            fingerprint: { extract, chunk: chunkOpts, modelKey: fingerprints.modelKey },
          }),
        );
        info.catch(() => collections.delete(name));
        collections.set(name, info);
      }
      return info;
    },
    async close() {
      await threads.close();
      await embedService.close();
      // Traffic not yet reported by a finished embed job (e.g. the request that met a bad key).
      await bumpCounters(pool, takeEmbedCounters()).catch(() => undefined);
      await limiter?.close();
      await embedder.close?.();
      await closeQueues(queues);
      await pool.end();
      redis.disconnect();
    },
  };
}

// A pipeline: the settings that shape a collection generation's chunks and vectors
// (embedder, model, width, chunk size and overlap) with everything built from them:
// the embedder, its batching service and rate limiter, the chunk options and the
// checkpoint keys. A runtime builds the configured one up front and others on
// demand, so one worker serves a collection's active generation and a re-index
// build with different settings side by side.
import type { Config } from '../config.ts';
import { createEmbedder } from '../embedders/index.ts';
import { lookupModel, OLLAMA_MODELS, OPENAI_MODELS } from '../embedders/models.ts';
import type { Embedder } from '../embedders/types.ts';
import { SluiceError } from '../errors.ts';
import { type ChunkOptions, chunkFingerprint } from '../transforms/chunk.ts';
import type { QueueBackend } from './backend.ts';
import { createEmbedService, type EmbedService } from './embed-service.ts';
import type { RateLimiter } from './rate-limit.ts';
import { retryPolicy } from './retry-policy.ts';

/** What a generation is built with; stored in sluice.collection_generations. */
export interface PipelineSettings {
  embedder: string;
  model: string;
  dimensions: number;
  chunkSize: number;
  chunkOverlap: number;
  /**
   * The width to ask the provider for (null: its native width). Not part of the
   * key: it only says how to get `dimensions`. Undefined: guessed from the model tables.
   */
  requestDimensions?: number | null | undefined;
}

export interface Pipeline {
  embedder: Embedder;
  embedService: EmbedService;
  limiter: RateLimiter | undefined;
  /** Chunking settings, with the embedder's tokenizer and input limit when it has them. */
  chunkOptions: Omit<ChunkOptions, 'lengthFunction' | 'countTokens'>;
  /** Checkpoint keys; `modelKey` needs the vector width: call resolveEmbedder() first. */
  fingerprints: { extract: string; chunk: string; readonly modelKey: string };
  /** Learns the width of a model not in the tables (one probe request), once. */
  resolveEmbedder(): Promise<void>;
  /** The settings this pipeline builds with (width known after resolveEmbedder). */
  settings(): PipelineSettings;
  /** Provider traffic since the last call, named as sluice.counters rows. */
  takeEmbedCounters(): Record<string, number>;
  close(): Promise<void>;
}

/** A stable key for settings: pipelines with equal keys are interchangeable. */
export function settingsKey(s: PipelineSettings): string {
  return [s.embedder, s.model, s.dimensions, s.chunkSize, s.chunkOverlap].join('|');
}

/** The width to ask the provider for (undefined: its native width). */
export function requestWidth(s: PipelineSettings): number | undefined {
  if (s.requestDimensions !== undefined) return s.requestDimensions ?? undefined;
  const known =
    s.embedder === 'openai'
      ? lookupModel(OPENAI_MODELS, s.model)
      : s.embedder === 'ollama'
        ? lookupModel(OLLAMA_MODELS, s.model)
        : undefined;
  // A model's native width is not sent as a request option: some models refuse `dimensions`.
  return s.embedder === 'local' || known?.dimensions === s.dimensions ? undefined : s.dimensions;
}

/** The configuration that builds a pipeline with these settings (everything else as configured). */
export function configFor(config: Config, s: PipelineSettings): Config {
  const dims = requestWidth(s);
  const out: Config = {
    ...config,
    embedder: s.embedder as Config['embedder'],
    chunkSize: s.chunkSize,
    chunkOverlap: s.chunkOverlap,
  };
  if (s.embedder === 'hash') delete out.embedModel;
  else out.embedModel = s.model;
  if (dims === undefined) delete out.embedDimensions;
  else out.embedDimensions = dims;
  return out;
}

/** Builds a pipeline; `embedder` overrides the configured one (tests point it at a test server). */
export async function createPipeline(
  config: Config,
  queue: QueueBackend,
  extract: string,
  embedder?: Embedder,
): Promise<Pipeline> {
  const emb = embedder ?? (await createEmbedder(config));
  // One budget per provider+model, shared through the queue store by every worker using this queue prefix.
  const limited = config.embedRequestsPerMin !== undefined || config.embedTokensPerMin !== undefined;
  const limiter = limited
    ? queue.rateLimiter({
        prefix: config.queuePrefix,
        key: `${emb.id}:${emb.model}`,
        requestsPerWindow: config.embedRequestsPerMin,
        tokensPerWindow: config.embedTokensPerMin,
        windowMs: 60_000,
      })
    : undefined;
  const embedService = createEmbedService({
    embedder: emb,
    limiter,
    // The same tries and backoff as a job: a provider 5xx is retried here, not again by the job.
    retry: retryPolicy(config),
    // Matches the worker's 30 s deferral of a configuration error: jobs that reach
    // the service meanwhile get the same answer without another rejected request.
    configErrorHoldMs: 30_000,
  });
  const chunkOptions: Pipeline['chunkOptions'] = { size: config.chunkSize, overlap: config.chunkOverlap };
  if (emb.tokenizer !== undefined) {
    chunkOptions.tokenizer = emb.tokenizer;
    // No chunk larger than the model takes, nor than one request or the token budget can carry.
    const caps = [emb.maxInputTokens, emb.maxBatchTokens, config.embedTokensPerMin];
    const known = caps.filter((n): n is number => n !== undefined);
    if (known.length > 0) chunkOptions.maxTokens = Math.min(...known);
  }
  let resolving: Promise<void> | undefined;
  const resolveEmbedder = (): Promise<void> => {
    if (emb.dimensions > 0 || !emb.resolveDimensions) return Promise.resolve();
    resolving ??= emb.resolveDimensions().then(
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
    chunk: `${extract}|${chunkFingerprint(chunkOptions)}`,
    get modelKey(): string {
      if (emb.dimensions <= 0) {
        // A key with width 0 would file vectors under the wrong cache entry.
        throw new SluiceError('INTERNAL', `the width of ${emb.id} model "${emb.model}" is unknown yet`);
      }
      return `${emb.id}:${emb.model}:${emb.dimensions}`;
    },
  };
  const sent = { requests: 0, tokens: 0, retries: 0, rateLimited: 0 };
  return {
    embedder: emb,
    embedService,
    limiter,
    chunkOptions,
    fingerprints,
    resolveEmbedder,
    settings: () => ({
      embedder: emb.id,
      model: emb.model,
      dimensions: emb.dimensions,
      chunkSize: config.chunkSize,
      chunkOverlap: config.chunkOverlap,
    }),
    takeEmbedCounters() {
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
    },
    async close() {
      await embedService.close();
      await limiter?.close();
      await emb.close?.();
    },
  };
}

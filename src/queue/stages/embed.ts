// Embed stage: vectors for the chunks whose text is not yet in the embedding
// cache for the generation's model. Unchanged paragraphs of an edited document
// (and unchanged chunks of a re-index) hit the cache. Tokens are reserved
// against the budgets before any request is sent.
import { SluiceError } from '../../errors.ts';
import { refundTokens, reserveTokens } from '../../loaders/budget.ts';
import { bumpCounters, getChunkSet, missingEmbeddings, putEmbeddings } from '../../loaders/checkpoints.ts';
import type { Chunk } from '../../transforms/chunk.ts';
import type { JobPayload } from '../jobs.ts';
import type { Pipeline } from '../pipeline.ts';
import { enqueue } from '../queues.ts';
import type { Runtime } from '../runtime.ts';
import type { StageContext, StageOutcome } from './index.ts';

export async function runEmbed(rt: Runtime, p: JobPayload, ctx: StageContext): Promise<StageOutcome> {
  const { pipeline, generation } = await rt.pipelineFor(p);
  const chunks = await getChunkSet(rt.pool, p.contentHash, pipeline.fingerprints.chunk);
  if (!chunks) return chunkAgain(rt, p);
  const modelKey = pipeline.fingerprints.modelKey;
  const missing = await missingEmbeddings(
    rt.pool,
    modelKey,
    chunks.map((c) => c.contentHash),
  );
  const misses = chunks.filter((c) => missing.has(c.contentHash)).length;
  const hits = chunks.length - misses;
  if (missing.size === 0) {
    await bumpCounters(rt.pool, { embed_cache_hits: hits, ...rt.takeEmbedCounters() });
    return 'skipped';
  }
  const todo = textsToEmbed(pipeline, chunks, missing);
  const hashes = [...todo.keys()];
  const items = [...todo.values()];
  const spend = {
    collection: p.collection,
    generation: generation.generation,
    tokens: items.reduce((n, t) => n + t.tokens, 0),
    dailyBudget: rt.config.embedBudgetTokens,
  };
  // Reserving before the request updates the same spend rows from every embed job, which
  // lines the jobs up one by one and spoils cross-document batching: only a budget needs it.
  // Without one the spend is recorded once the vectors are back.
  const budgeted = generation.budgetTokens !== null || spend.dailyBudget !== undefined;
  if (budgeted) await reserveTokens(rt.pool, spend);
  let vectors: Float32Array[];
  try {
    vectors = await pipeline.embedService.embedMany(
      items.map((t) => t.text),
      ctx.signal,
      items.map((t) => t.tokens),
    );
  } catch (err) {
    if (budgeted) await refundTokens(rt.pool, spend).catch(() => undefined);
    // Requests spent on a failed call (a rejected key, exhausted retries) still count.
    await bumpCounters(rt.pool, rt.takeEmbedCounters()).catch(() => undefined);
    throw err;
  }
  if (!budgeted) await reserveTokens(rt.pool, spend); // no budget to exceed: records the spend
  await putEmbeddings(
    rt.pool,
    modelKey,
    hashes.map((hash, i) => ({ hash, vector: vectors[i]! })),
  );
  // Hits and misses per chunk; embed_texts per distinct text sent (a chunk text repeated
  // in one document is embedded once). Counted only once the vectors are stored, so a
  // retried job does not count its misses twice.
  await bumpCounters(rt.pool, {
    embed_cache_hits: hits,
    embed_cache_misses: misses,
    embed_texts: hashes.length,
    ...rt.takeEmbedCounters(),
  });
  return 'done';
}

/**
 * The distinct chunk texts missing from the cache, with their token counts: the
 * chunker's when it used the embedder's own tokenizer, the embedder's otherwise
 * (what a request is measured, and a dry run estimated, with).
 */
export function textsToEmbed(
  pipeline: Pipeline,
  chunks: Chunk[],
  missing: Set<string>,
): Map<string, { text: string; tokens: number }> {
  const { embedder, chunkOptions } = pipeline;
  const counted = embedder.tokenizer !== undefined && chunkOptions.tokenizer === embedder.tokenizer;
  const cap = embedder.maxInputTokens ?? Number.POSITIVE_INFINITY;
  const todo = new Map<string, { text: string; tokens: number }>();
  for (const c of chunks) {
    if (!missing.has(c.contentHash) || todo.has(c.contentHash)) continue;
    // What is embedded is the chunk with its title/heading context (the cache key hashes that).
    const input = c.embedText ?? c.text;
    const fitted =
      counted && c.tokenCount <= cap
        ? { text: input, tokens: c.tokenCount }
        : (embedder.fitInput?.(input) ?? { text: input, tokens: embedder.countTokens(input) });
    todo.set(c.contentHash, fitted);
  }
  return todo;
}

/**
 * A live job whose chunks or vectors were made for another generation than the
 * active one (a switch or rollback happened between its stages) goes back to
 * the chunk stage, which builds it with the active generation's settings.
 */
export async function chunkAgain(rt: Runtime, p: JobPayload): Promise<StageOutcome> {
  if (p.generation !== undefined) {
    throw new SluiceError('INTERNAL', 'chunk output is missing; run `sluice retry` for this document', {
      retryable: false,
    });
  }
  await enqueue(rt.queues, 'chunk', p);
  return 'superseded';
}

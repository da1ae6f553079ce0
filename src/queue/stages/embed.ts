// Embed stage: vectors for the chunks whose text is not yet in the embedding
// cache for this model. Unchanged paragraphs of an edited document hit the cache.
import { SluiceError } from '../../errors.ts';
import { bumpCounters, getChunkSet, missingEmbeddings, putEmbeddings } from '../../loaders/checkpoints.ts';
import type { JobPayload } from '../jobs.ts';
import type { Runtime } from '../runtime.ts';
import type { StageContext, StageOutcome } from './index.ts';

export async function runEmbed(rt: Runtime, p: JobPayload, ctx: StageContext): Promise<StageOutcome> {
  const chunks = await getChunkSet(rt.pool, p.contentHash, rt.fingerprints.chunk);
  if (!chunks) {
    throw new SluiceError('INTERNAL', 'chunk output is missing; run `sluice retry` for this document', {
      retryable: false,
    });
  }
  // The collection fixes the vector width: a mismatch (or an unknown model's width)
  // is settled here, before any money is spent on embeddings.
  await rt.collection(p.collection);
  const modelKey = rt.fingerprints.modelKey;
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
  const todo = new Map<string, { text: string; tokens: number }>();
  // What is embedded is the chunk with its title/heading context (the cache key hashes that).
  for (const c of chunks)
    if (missing.has(c.contentHash))
      todo.set(c.contentHash, { text: c.embedText ?? c.text, tokens: c.tokenCount });
  const hashes = [...todo.keys()];
  const items = [...todo.values()];
  // Chunk token counts came from the embedder's own tokenizer when it has one: reuse them.
  const counted = rt.embedder.tokenizer !== undefined && rt.chunkOptions.tokenizer === rt.embedder.tokenizer;
  let vectors: Float32Array[];
  try {
    vectors = await rt.embedService.embedMany(
      items.map((t) => t.text),
      ctx.signal,
      counted ? items.map((t) => t.tokens) : undefined,
    );
  } catch (err) {
    // Requests spent on a failed call (a rejected key, exhausted retries) still count.
    await bumpCounters(rt.pool, rt.takeEmbedCounters()).catch(() => undefined);
    throw err;
  }
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

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
  const modelKey = rt.fingerprints.modelKey;
  const missing = await missingEmbeddings(
    rt.pool,
    modelKey,
    chunks.map((c) => c.contentHash),
  );
  const hits = chunks.length - chunks.filter((c) => missing.has(c.contentHash)).length;
  if (missing.size === 0) {
    await bumpCounters(rt.pool, { embed_cache_hits: hits });
    return 'skipped';
  }
  const todo = new Map<string, string>();
  for (const c of chunks) if (missing.has(c.contentHash)) todo.set(c.contentHash, c.text);
  const hashes = [...todo.keys()];
  const vectors = await rt.embedService.embedMany([...todo.values()], ctx.signal);
  await putEmbeddings(
    rt.pool,
    modelKey,
    hashes.map((hash, i) => ({ hash, vector: vectors[i]! })),
  );
  await bumpCounters(rt.pool, {
    embed_cache_hits: hits,
    embed_cache_misses: chunks.length - hits,
    embed_texts: hashes.length,
  });
  return 'done';
}

// Load stage: swap the document's chunks in its generation for the new
// version's in one transaction (binary COPY) and mark it done. A live load then
// queues the version for the generations kept beside the active one; a build's
// load may complete its generation.
import { getChunkSet, getEmbeddingsBinary } from '../../loaders/checkpoints.ts';
import { markReadyIfComplete } from '../../loaders/generations.ts';
import { replaceChunks } from '../../loaders/pgvector.ts';
import type { JobPayload } from '../jobs.ts';
import { enqueue } from '../queues.ts';
import type { Runtime } from '../runtime.ts';
import { chunkAgain } from './embed.ts';
import type { StageOutcome } from './index.ts';

export async function runLoad(rt: Runtime, p: JobPayload): Promise<StageOutcome> {
  const { pipeline, generation } = await rt.pipelineFor(p);
  const chunks = await getChunkSet(rt.pool, p.contentHash, pipeline.fingerprints.chunk);
  if (!chunks) return chunkAgain(rt, p);
  const vectors = await getEmbeddingsBinary(
    rt.pool,
    pipeline.fingerprints.modelKey,
    chunks.map((c) => c.contentHash),
  );
  const pinned = p.generation !== undefined;
  if (!pinned && chunks.some((c) => !vectors.has(c.contentHash))) return chunkAgain(rt, p);
  const result = await replaceChunks(rt.pool, {
    documentId: p.documentId,
    hash: p.contentHash,
    collection: generation,
    chunks,
    vectors,
    pinned,
  });
  if (result.outcome === 'moved') return chunkAgain(rt, p);
  for (const g of result.followUps) {
    await enqueue(rt.queues, 'extract', {
      v: 1,
      documentId: p.documentId,
      contentHash: p.contentHash,
      collection: p.collection,
      uri: p.uri,
      generation: g,
    });
  }
  if (pinned && result.outcome === 'loaded')
    await markReadyIfComplete(rt.pool, p.collection, generation.generation);
  return result.outcome === 'loaded' ? 'done' : 'superseded';
}

// Load stage: swap the document's chunks for the new version's in one
// transaction (binary COPY) and mark it done.
import { SluiceError } from '../../errors.ts';
import { getChunkSet, getEmbeddingsBinary } from '../../loaders/checkpoints.ts';
import { replaceChunks } from '../../loaders/pgvector.ts';
import type { JobPayload } from '../jobs.ts';
import type { Runtime } from '../runtime.ts';
import type { StageOutcome } from './index.ts';

export async function runLoad(rt: Runtime, p: JobPayload): Promise<StageOutcome> {
  const chunks = await getChunkSet(rt.pool, p.contentHash, rt.fingerprints.chunk);
  if (!chunks) {
    throw new SluiceError('INTERNAL', 'chunk output is missing; run `sluice retry` for this document', {
      retryable: false,
    });
  }
  const collection = await rt.collection(p.collection);
  const vectors = await getEmbeddingsBinary(
    rt.pool,
    rt.fingerprints.modelKey,
    chunks.map((c) => c.contentHash),
  );
  const outcome = await replaceChunks(rt.pool, {
    documentId: p.documentId,
    hash: p.contentHash,
    collection,
    chunks,
    vectors,
  });
  return outcome === 'loaded' ? 'done' : 'superseded';
}

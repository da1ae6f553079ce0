// Chunk stage: extraction output → chunks with offsets, heading path and pages,
// computed in an extraction thread. Output: sluice.chunk_sets.
import { SluiceError } from '../../errors.ts';
import { getExtraction, hasChunkSet, putChunkSet } from '../../loaders/checkpoints.ts';
import type { JobPayload } from '../jobs.ts';
import type { Runtime } from '../runtime.ts';
import type { StageContext, StageOutcome } from './index.ts';

export async function runChunk(rt: Runtime, p: JobPayload, ctx: StageContext): Promise<StageOutcome> {
  const fp = rt.fingerprints.chunk;
  if (!p.force && (await hasChunkSet(rt.pool, p.contentHash, fp))) return 'skipped';
  const extraction = await getExtraction(rt.pool, p.contentHash, rt.fingerprints.extract);
  if (!extraction) {
    throw new SluiceError('INTERNAL', 'extraction output is missing; run `sluice retry` for this document', {
      retryable: false,
    });
  }
  const chunks = await rt.threads.run(
    {
      kind: 'chunk',
      // The title goes in each chunk's embedding context.
      doc: {
        sections: extraction.sections,
        metadata: extraction.metadata,
        ...(extraction.title ? { title: extraction.title } : {}),
      },
      options: rt.chunkOptions,
      ...(rt.chunkOptions.tokenizer === undefined ? {} : { tokenizer: rt.chunkOptions.tokenizer }),
    },
    ctx.signal,
  );
  if (chunks.length === 0) throw new SluiceError('NO_TEXT', 'the document produced no text to index');
  await putChunkSet(rt.pool, p.contentHash, fp, chunks);
  return 'done';
}

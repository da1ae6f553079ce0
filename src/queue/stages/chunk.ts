// Chunk stage: extraction output → chunks with offsets, heading path and pages,
// computed in an extraction thread with the settings of the job's generation.
// Output: sluice.chunk_sets.
import { SluiceError } from '../../errors.ts';
import { getExtraction, hasChunkSet, putChunkSet } from '../../loaders/checkpoints.ts';
import type { Chunk } from '../../transforms/chunk.ts';
import type { JobPayload } from '../jobs.ts';
import type { Pipeline } from '../pipeline.ts';
import type { Runtime } from '../runtime.ts';
import type { StageContext, StageOutcome } from './index.ts';

export async function runChunk(rt: Runtime, p: JobPayload, ctx: StageContext): Promise<StageOutcome> {
  const { pipeline } = await rt.pipelineFor(p);
  const fp = pipeline.fingerprints.chunk;
  if (!p.force && (await hasChunkSet(rt.pool, p.contentHash, fp))) return 'skipped';
  const chunks = await makeChunks(rt, pipeline, p.contentHash, ctx.signal);
  await putChunkSet(rt.pool, p.contentHash, fp, chunks);
  return 'done';
}

/** Chunks a stored extraction with a pipeline's settings (shared with dry runs). */
export async function makeChunks(
  rt: Runtime,
  pipeline: Pipeline,
  hash: string,
  signal: AbortSignal,
): Promise<Chunk[]> {
  const extraction = await getExtraction(rt.pool, hash, pipeline.fingerprints.extract);
  if (!extraction) {
    throw new SluiceError('INTERNAL', 'extraction output is missing; run `sluice retry` for this document', {
      retryable: false,
    });
  }
  const options = pipeline.chunkOptions;
  const chunks = await rt.threads.run(
    {
      kind: 'chunk',
      // The title goes in each chunk's embedding context.
      doc: {
        sections: extraction.sections,
        metadata: extraction.metadata,
        ...(extraction.title ? { title: extraction.title } : {}),
      },
      options,
      ...(options.tokenizer === undefined ? {} : { tokenizer: options.tokenizer }),
    },
    signal,
  );
  if (chunks.length === 0) throw new SluiceError('NO_TEXT', 'the document produced no text to index');
  return chunks;
}

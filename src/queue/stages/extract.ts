// Extract stage: bytes from the source → sniffed type → text with structure, in
// an extraction thread with time and memory limits. Output: sluice.extractions.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { pickExtractor } from '../../extractors/index.ts';
import { sniffType } from '../../extractors/sniff.ts';
import { getExtractionHead, putExtraction } from '../../loaders/checkpoints.ts';
import { setExtracted } from '../../loaders/documents.ts';
import { readSource } from '../../sources/index.ts';
import type { JobPayload } from '../jobs.ts';
import { ingestFiles } from '../producer.ts';
import type { Runtime } from '../runtime.ts';
import type { StageContext, StageOutcome } from './index.ts';

export async function runExtract(rt: Runtime, p: JobPayload, ctx: StageContext): Promise<StageOutcome> {
  const fp = rt.fingerprints.extract;
  if (!p.force) {
    const head = await getExtractionHead(rt.pool, p.contentHash, fp);
    if (head) {
      await setExtracted(rt.pool, p.documentId, p.contentHash, head);
      return 'skipped';
    }
  }
  const bytes = await readSource(p.uri, rt.limits.maxBytes);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== p.contentHash) {
    // The file changed after it was queued: record the new version instead.
    await ingestFiles(rt, [{ path: p.uri, bytes: bytes.byteLength }], { collection: p.collection });
    return 'superseded';
  }
  const head = await extractToCheckpoint(rt, bytes, p.uri, p.contentHash, ctx.signal);
  await setExtracted(rt.pool, p.documentId, p.contentHash, head);
  return 'done';
}

/** Sniffs, extracts in a thread and stores the checkpoint (shared with dry runs). */
export async function extractToCheckpoint(
  rt: Runtime,
  bytes: Uint8Array,
  uri: string,
  hash: string,
  signal: AbortSignal,
): Promise<{ mime: string; title: string | null; metadata: Record<string, unknown> }> {
  const filename = basename(uri);
  const mime = await sniffType(bytes, filename);
  pickExtractor(mime); // UNSUPPORTED_TYPE here, before a thread is spent on it
  const doc = await rt.threads.run({ kind: 'extract', bytes, mime, filename, limits: rt.limits }, signal);
  await putExtraction(rt.pool, hash, rt.fingerprints.extract, { ...doc, mime });
  return { mime, title: doc.title ?? null, metadata: doc.metadata };
}

// Extract stage: bytes from the source → sniffed type → text with structure, in
// an extraction thread with time and memory limits. Output: sluice.extractions.
import { basename } from 'node:path';
import { pickExtractor } from '../../extractors/index.ts';
import { sniffType } from '../../extractors/sniff.ts';
import { getExtractionHead, putExtraction } from '../../loaders/checkpoints.ts';
import { deleteDocuments, setExtracted } from '../../loaders/documents.ts';
import { readSource } from '../../sources/index.ts';
import { isGone } from '../../sources/s3.ts';
import type { JobPayload } from '../jobs.ts';
import { ingestHashed } from '../producer.ts';
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
  let read: Awaited<ReturnType<typeof readSource>>;
  try {
    read = await readSource(p.uri, rt.limits.maxBytes, rt.config);
  } catch (err) {
    if (!isGone(err)) throw err;
    // Deleted from its bucket after it was listed: the document follows it.
    await deleteDocuments(rt.pool, [p.documentId]);
    return 'superseded';
  }
  const { bytes } = read;
  if (read.hash !== p.contentHash) {
    // The file changed after it was queued: record the new version instead.
    await ingestHashed(rt, [{ uri: p.uri, bytes: bytes.byteLength, hash: read.hash }], {
      collection: p.collection,
    });
    return 'superseded';
  }
  const filename = basename(p.uri);
  const mime = await sniffType(bytes, filename);
  pickExtractor(mime); // UNSUPPORTED_TYPE here, before a thread is spent on it
  const doc = await rt.threads.run({ kind: 'extract', bytes, mime, filename, limits: rt.limits }, ctx.signal);
  const stored = { ...doc, mime };
  await putExtraction(rt.pool, p.contentHash, fp, stored);
  await setExtracted(rt.pool, p.documentId, p.contentHash, {
    mime,
    title: doc.title ?? null,
    metadata: doc.metadata,
  });
  return 'done';
}

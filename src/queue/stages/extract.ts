// Extract stage: bytes from the source → sniffed type → text with structure, in
// an extraction thread with time and memory limits. Output: sluice.extractions.
// A mail message's attachments become documents of their own (see ../attachments.ts),
// and the quality gate fails garbage text LOW_QUALITY after the output is stored.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { SluiceError } from '../../errors.ts';
import { pickExtractor } from '../../extractors/index.ts';
import { isAttachmentUri, parentOf } from '../../extractors/mail-attachments.ts';
import { MIME, sniffType } from '../../extractors/sniff.ts';
import { getExtractionHead, putExtraction } from '../../loaders/checkpoints.ts';
import { deleteDocuments, setExtracted } from '../../loaders/documents.ts';
import { localPathOf, readSource, type SourceRead } from '../../sources/index.ts';
import { isGone } from '../../sources/s3.ts';
import { enforceQuality } from '../../transforms/quality.ts';
import { planAttachments, readAttachment, syncAttachments } from '../attachments.ts';
import { type ByteBudget, createByteBudget } from '../byte-budget.ts';
import type { JobPayload } from '../jobs.ts';
import { ingestHashed } from '../producer.ts';
import type { Runtime } from '../runtime.ts';
import type { StageContext, StageOutcome } from './index.ts';

export async function runExtract(rt: Runtime, p: JobPayload, ctx: StageContext): Promise<StageOutcome> {
  const fp = rt.fingerprints.extract;
  if (!p.force) {
    const head = await getExtractionHead(rt.pool, p.contentHash, fp);
    if (head) {
      await finishExtract(rt, p, head);
      return 'skipped';
    }
  }
  const attachment = isAttachmentUri(p.uri);
  // Taken before reading (a local file's size from stat), so documents waiting their
  // turn do not hold their bytes meanwhile; held until the extraction is stored, as
  // the decoded and serialised copies of the bytes live that long.
  const budget = extractBudget(rt);
  let taken = attachment ? 0 : await localSize(p.uri);
  let release = await budget.acquire(taken, ctx.signal);
  try {
    const read = attachment
      ? await readAttachment(rt, p.uri, ctx.signal)
      : await readUnlessGone(rt, p.uri, ctx.signal);
    if (!read) {
      // Deleted from its bucket after it was listed: the document follows it.
      await deleteDocuments(rt.pool, [p.documentId]);
      return 'superseded';
    }
    const { bytes, hash } = read;
    if (hash !== p.contentHash) {
      if (attachment) {
        throw new SluiceError(
          'SOURCE_MISSING',
          'the attachment changed since it was queued; ingest its message again to index the new version',
        );
      }
      // The file changed after it was queued: record the new version instead.
      await ingestHashed(rt, [{ uri: p.uri, bytes: bytes.byteLength, hash }], {
        collection: p.collection,
      });
      return 'superseded';
    }
    if (bytes.byteLength > taken) {
      // Bigger than its size said (a bucket object, an attachment, a grown file): queue again for
      // the whole size, holding nothing while waiting, so two such documents cannot block each other.
      release();
      taken = bytes.byteLength;
      release = await budget.acquire(taken, ctx.signal);
    }
    const head = await extractToCheckpoint(rt, bytes, p.uri, p.contentHash, ctx.signal);
    await finishExtract(rt, p, head);
  } finally {
    release();
  }
  return 'done';
}

/** A local file's size from stat (0 for other sources or when it cannot be stat'ed): a hint only. */
async function localSize(uri: string): Promise<number> {
  const path = localPathOf(uri);
  return path === undefined ? 0 : ((await stat(path).catch(() => undefined))?.size ?? 0);
}

const budgets = new WeakMap<Runtime, ByteBudget>();

/** The process's extract byte budget (SLUICE_EXTRACT_BYTES_IN_FLIGHT), one per runtime. */
export function extractBudget(rt: Runtime): ByteBudget {
  let budget = budgets.get(rt);
  if (!budget) {
    budget = createByteBudget(rt.config.extractBytesInFlight);
    budgets.set(rt, budget);
  }
  return budget;
}

/**
 * Record the extraction on the document, queue a message's attachments, then apply
 * the quality gate (after storing: the score stays on the document, and a later
 * --accept-low-quality reuses the extraction).
 */
async function finishExtract(
  rt: Runtime,
  p: JobPayload,
  info: { mime: string; title: string | null; metadata: Record<string, unknown> },
): Promise<void> {
  const metadata = { ...info.metadata };
  const parent = parentOf(p.uri);
  if (parent) metadata.parent = parent;
  const plan = Array.isArray(metadata.attachments) ? planAttachments(rt, p.uri, metadata) : undefined;
  if (plan) metadata.attachments = plan;
  await setExtracted(rt.pool, p.documentId, p.contentHash, { ...info, metadata });
  if (plan) await syncAttachments(rt, p, plan);
  enforceQuality(metadata, p.acceptLowQuality === true || rt.config.acceptLowQuality);
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
  // OCR takes seconds per page: its page budget comes on top of the usual parse limit.
  const ocr = rt.limits.ocr && mime === MIME.pdf ? rt.limits.ocr.maxPages * rt.limits.ocr.pageTimeoutMs : 0;
  const doc = await rt.threads.run(
    { kind: 'extract', bytes, mime, filename, limits: rt.limits },
    signal,
    ocr > 0 ? rt.config.extractTimeoutMs + ocr : undefined,
  );
  refuseNulMetadata(doc);
  // Postgres text and jsonb cannot hold U+0000; the cleaner drops it from chunks anyway.
  const sections = doc.sections.map((s) =>
    s.text.includes('\u0000') ? { ...s, text: s.text.replaceAll('\u0000', '') } : s,
  );
  await putExtraction(rt.pool, hash, rt.fingerprints.extract, { ...doc, sections, mime });
  return { mime, title: doc.title ?? null, metadata: doc.metadata };
}

/**
 * NUL characters in a title or metadata (front matter, document properties) mean a
 * damaged file, and Postgres could not store them: CORRUPT_FILE, not a retry.
 */
function refuseNulMetadata(doc: { title?: string; metadata: Record<string, unknown> }): void {
  const where = nulAt({ title: doc.title, ...doc.metadata }, '');
  if (where) {
    throw new SluiceError(
      'CORRUPT_FILE',
      `the document's ${where} contains NUL characters; the file is damaged`,
    );
  }
}

/** Path of the first string (key or value) holding U+0000, or undefined. */
function nulAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (!value || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const at = `${path}${path ? '.' : ''}${k}`;
    if (k.includes('\u0000')) return path || 'metadata';
    const found = nulAt(v, at);
    if (found) return found;
  }
  return undefined;
}

/** The source's bytes and version, or undefined when the object is gone from its bucket. */
async function readUnlessGone(
  rt: Runtime,
  uri: string,
  signal: AbortSignal,
): Promise<SourceRead | undefined> {
  try {
    return await readSource(uri, rt.limits.maxBytes, rt.config, {
      timeoutMs: rt.config.readTimeoutMs,
      signal,
    });
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

// Mail attachments as documents of their own. A message's extraction lists its
// attachments; here each one with an extractor becomes a child document (uri
// `<message>#attachment/<n>/<name>`, metadata.parent = the message's uri) queued for
// the normal pipeline, up to SLUICE_MAX_ATTACHMENTS per message and
// SLUICE_MAX_ATTACHMENT_DEPTH levels of attachments inside attachments. Children the
// message no longer has are deleted. Reading a child re-reads the root file and takes
// the attachment out in an extraction thread, so jobs carry only ids.
import { createHash } from 'node:crypto';
import { SluiceError } from '../errors.ts';
import { EXTRACTORS } from '../extractors/index.ts';
import {
  type AttachmentInfo,
  childUri,
  isAttachmentUri,
  parseAttachmentUri,
} from '../extractors/mail-attachments.ts';
import { deleteDocuments, documentsUnder, upsertDocument } from '../loaders/documents.ts';
import { readSource, type SourceRead } from '../sources/index.ts';
import type { JobPayload } from './jobs.ts';
import { enqueue } from './queues.ts';
import type { Runtime } from './runtime.ts';

/** An attachment as recorded on its message: where it went, or why it was not indexed. */
export type AttachmentNote = AttachmentInfo & { uri?: string; skipped?: string };

/** Decide which attachments of the message at `uri` become documents (pure; see syncAttachments). */
export function planAttachments(
  rt: Pick<Runtime, 'config'>,
  uri: string,
  metadata: Record<string, unknown>,
): AttachmentNote[] {
  const list = Array.isArray(metadata.attachments) ? (metadata.attachments as AttachmentInfo[]) : [];
  const depth = parseAttachmentUri(uri).path.length;
  let taken = 0;
  return list.map((a) => {
    if (depth >= rt.config.maxAttachmentDepth) {
      return {
        ...a,
        skipped: `attachments nested deeper than ${rt.config.maxAttachmentDepth} (SLUICE_MAX_ATTACHMENT_DEPTH)`,
      };
    }
    if (!EXTRACTORS.some((e) => e.mimeTypes.includes(a.mime)))
      return { ...a, skipped: `no extractor for ${a.mime}` };
    if (taken >= rt.config.maxAttachments) {
      return { ...a, skipped: `more than ${rt.config.maxAttachments} attachments (SLUICE_MAX_ATTACHMENTS)` };
    }
    taken++;
    return { ...a, uri: childUri(uri, a) };
  });
}

/** Upsert and queue the planned children of message `p`; delete the children it no longer has. */
export async function syncAttachments(
  rt: Runtime,
  p: JobPayload,
  plan: readonly AttachmentNote[],
): Promise<void> {
  const keep: string[] = [];
  for (const a of plan) {
    if (!a.uri) continue;
    keep.push(a.uri);
    const { id, action } = await upsertDocument(rt.pool, {
      collection: p.collection,
      uri: a.uri,
      contentHash: a.sha256,
      bytes: a.bytes,
      force: p.force === true,
    });
    if (action === 'unchanged') continue;
    const child: JobPayload = {
      v: 1,
      documentId: id,
      contentHash: a.sha256,
      collection: p.collection,
      uri: a.uri,
    };
    if (p.force) child.force = true;
    if (p.acceptLowQuality) child.acceptLowQuality = true;
    await enqueue(rt.queues, 'extract', child);
  }
  const prefix = childUri(p.uri, { index: 0, name: '' }).replace(/0\/$/, '');
  const stale = (await documentsUnder(rt.pool, p.collection, prefix)).filter(
    (d) => !keep.some((k) => d.uri === k || d.uri.startsWith(`${k}/attachment/`)),
  );
  await deleteDocuments(
    rt.pool,
    stale.map((d) => d.id),
  );
}

/** The bytes of a child document: its root message read from the source, the attachment taken out in a thread. */
export async function readAttachment(rt: Runtime, uri: string, signal?: AbortSignal): Promise<SourceRead> {
  if (!isAttachmentUri(uri)) throw new SluiceError('INTERNAL', `${uri} is not an attachment uri`);
  const { root, path } = parseAttachmentUri(uri);
  const message = await readSource(root, rt.limits.maxBytes, rt.config, {
    timeoutMs: rt.config.readTimeoutMs,
    ...(signal ? { signal } : {}),
  });
  const bytes = await rt.threads.run({ kind: 'attachment', bytes: message.bytes, path }, signal);
  return { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
}

// Keeping the index in step with a source: compare a listing with the stored
// state, record new and changed versions, and apply deletions — only from a
// complete listing or a confirmed-gone live event, after the grace period, and
// never more than the mass-delete guard allows (then they are held for approval).

import {
  applyDeletions,
  dueDeletions,
  finishScan,
  holdDeletions,
  type ListedObject,
  markSeen,
  saveObject,
  storedObjects,
} from '../loaders/source-objects.ts';
import { nextScanSeq, type SourceRow } from '../loaders/sources.ts';
import { ingestHashed } from '../queue/producer.ts';
import type { Runtime } from '../queue/runtime.ts';

/** The guard holds a sync's deletions when they are at least this many and over the share. */
export const GUARD_MIN_DELETIONS = 10;

export interface SyncTarget {
  rt: Runtime;
  source: SourceRow;
}

export interface DeletionResult {
  deleted: number;
  held: number;
}

/**
 * Compares one batch of a listing with stored state: every listed key is marked
 * seen (so it is not mistaken for deleted); returns the objects that are new or
 * changed. Unchanged means same size, mtime and inode (files) or ETag (objects),
 * decided without reading a byte.
 */
export async function diffBatch(t: SyncTarget, batch: ListedObject[], seq: number): Promise<ListedObject[]> {
  if (batch.length === 0) return [];
  const keys = batch.map((o) => o.key);
  const stored = await storedObjects(t.rt.pool, t.source.id, keys);
  await markSeen(t.rt.pool, t.source.id, keys, seq);
  return batch.filter((o) => {
    const s = stored.get(o.key);
    if (!s || s.documentId === null) return true;
    if (o.etag !== undefined) return s.etag !== o.etag || s.size !== o.size;
    return s.size !== o.size || s.mtimeMs !== o.mtimeMs || s.inode !== o.inode;
  });
}

/** Whether a file's stored version still matches what the disk says (a restart needs no re-hash). */
export async function isUnchanged(t: SyncTarget, o: ListedObject): Promise<boolean> {
  const s = (await storedObjects(t.rt.pool, t.source.id, [o.key])).get(o.key);
  return (
    s !== undefined &&
    s.documentId !== null &&
    s.size === o.size &&
    s.mtimeMs === o.mtimeMs &&
    s.inode === o.inode
  );
}

/**
 * Records a version of an object and queues it when new or changed; hash
 * undefined means over the size limit (refused unread). Returns the document id.
 */
export async function recordVersion(
  t: SyncTarget,
  o: ListedObject,
  hash: string | undefined,
  seq: number,
): Promise<number> {
  const summary = await ingestHashed(t.rt, [{ uri: o.uri, bytes: o.size, hash }], {
    collection: t.source.collection,
  });
  const documentId = summary.ids[0] ?? null;
  await saveObject(t.rt.pool, t.source.id, { ...o, contentHash: hash ?? null, documentId }, seq);
  return documentId ?? 0;
}

/** Runs a complete listing: diffs every batch, then marks what it did not see as missing. */
export async function fullSync(
  t: SyncTarget,
  listing: AsyncIterable<ListedObject[]>,
  onChanged: (o: ListedObject, seq: number) => Promise<void>,
  opts: { beforeFinish?: (seq: number) => Promise<void> } = {},
): Promise<{ seq: number; listed: number; changed: number }> {
  const started = performance.now();
  const seq = await nextScanSeq(t.rt.pool, t.source.id);
  let listed = 0;
  let changed = 0;
  for await (const batch of listing) {
    listed += batch.length;
    for (const o of await diffBatch(t, batch, seq)) {
      changed++;
      await onChanged(o, seq);
    }
  }
  await opts.beforeFinish?.(seq);
  await finishScan(t.rt.pool, t.source.id, seq, performance.now() - started);
  t.source.scan_seq = seq;
  return { seq, listed, changed };
}

/**
 * Applies the deletions that are due. If they would remove more than the guard
 * share of the source (and at least GUARD_MIN_DELETIONS), nothing is deleted:
 * they are held until `sluice sources approve-deletes`, and logged once.
 */
export async function applyDueDeletions(
  t: SyncTarget,
  opts: { guard: number; graceMs: number },
): Promise<DeletionResult> {
  const { pool, log } = t.rt;
  const { keys, total } = await dueDeletions(pool, t.source.id, opts.graceMs);
  if (keys.length === 0) return { deleted: 0, held: 0 };
  if (keys.length >= GUARD_MIN_DELETIONS && keys.length > opts.guard * total) {
    await holdDeletions(pool, t.source.id, keys);
    log.warn(
      `${t.source.uri}: holding ${keys.length} of ${total} documents' deletions (over the SLUICE_DELETE_GUARD ` +
        `share of ${Math.round(opts.guard * 100)}%); check the source, then run ` +
        `\`sluice sources approve-deletes ${t.source.uri}\` or \`discard-deletes\``,
    );
    return { deleted: 0, held: keys.length };
  }
  const deleted = await applyDeletions(pool, t.source.id, keys, 'missing');
  if (deleted > 0) log.info(`${t.source.uri}: removed ${deleted} deleted document(s)`);
  return { deleted, held: 0 };
}

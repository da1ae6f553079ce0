// Producer: turns source files into document rows and extract jobs. Files are
// sized and hashed first, all of them, so an unreadable one stops the command
// before anything is enqueued; the size limit is decided from stat, not by reading.

import { sqlStateOf } from '../errors.ts';
import { upsertDocuments, type VersionInput } from '../loaders/document-upsert.ts';
import { statusCounts } from '../loaders/documents.ts';
import { hashFile, type SourceFile } from '../sources/files.ts';
import type { JobPayload } from './jobs.ts';
import { enqueueMany } from './queues.ts';
import type { Runtime } from './runtime.ts';

export interface IngestSummary {
  files: number;
  queued: number;
  unchanged: number;
  inFlight: number;
  refused: number;
  /** Ids of documents this call queued or found in flight (what `--wait` waits for). */
  waitIds: number[];
  /** Ids of every document touched, for the final report. */
  ids: number[];
  /** Ids of files refused this run (too large): failures of this run. */
  refusedIds: number[];
}

export interface IngestOptions {
  collection: string;
  force?: boolean;
  /** Index text the quality gate judges garbage (the worker's own setting also counts). */
  acceptLowQuality?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

export async function ingestFiles(
  rt: Runtime,
  files: SourceFile[],
  opts: IngestOptions,
): Promise<IngestSummary> {
  const max = rt.config.maxFileBytes;
  const hashes = await mapLimit(files, 8, (f) =>
    f.bytes > max ? Promise.resolve(undefined) : hashFile(f.path),
  );
  return ingestHashed(
    rt,
    files.map((f, i) => ({ uri: f.path, bytes: f.bytes, hash: hashes[i] })),
    opts,
  );
}

/** A document version whose content hash is known (undefined: over the size limit, refused unread). */
export interface HashedItem {
  uri: string;
  bytes: number;
  hash: string | undefined;
}

/** Items recorded per statement and enqueued per addBulk (one Postgres commit, a few Redis round trips). */
export const INGEST_BATCH = 500;

/**
 * Records document versions and queues the new or changed ones, a batch at a
 * time. Sources that know a version without reading it (an S3 ETag) or hashed
 * it themselves come in here.
 */
export async function ingestHashed(
  rt: Runtime,
  items: HashedItem[],
  opts: IngestOptions,
): Promise<IngestSummary> {
  const max = rt.config.maxFileBytes;
  await rt.collection(opts.collection); // a dimension mismatch stops here, before anything is queued
  const summary: IngestSummary = { ...emptySummary(), files: items.length };
  let done = 0;
  for (const batch of batchesOf(items, INGEST_BATCH)) {
    const versions: VersionInput[] = batch.map((item) =>
      item.hash === undefined
        ? {
            uri: item.uri,
            bytes: item.bytes,
            contentHash: undefined,
            refusal: {
              code: 'TOO_LARGE',
              message: `${item.bytes} bytes is over the ${max}-byte limit (SLUICE_MAX_FILE_BYTES)`,
            },
          }
        : { uri: item.uri, bytes: item.bytes, contentHash: item.hash },
    );
    const recorded = await upsertDocuments(rt.pool, opts.collection, versions, {
      force: opts.force === true,
    });
    const payloads: JobPayload[] = [];
    recorded.forEach(({ id, action }, i) => {
      const item = batch[i]!;
      summary.ids.push(id);
      if (action === 'refused') {
        summary.refused++;
        summary.refusedIds.push(id);
        return;
      }
      if (action === 'unchanged') {
        summary.unchanged++;
        return;
      }
      // In flight: re-enqueue anyway. The deterministic job id makes it a no-op
      // while the job exists, and recovers it if Redis lost it.
      payloads.push(extractPayload(id, item.hash!, item.uri, opts));
      if (action === 'queued') summary.queued++;
      else summary.inFlight++;
      summary.waitIds.push(id);
    });
    await enqueueMany(rt.queues, 'extract', payloads);
    done += batch.length;
    opts.onProgress?.(done, items.length);
  }
  return summary;
}

function extractPayload(
  documentId: number,
  contentHash: string,
  uri: string,
  opts: IngestOptions,
): JobPayload {
  const payload: JobPayload = { v: 1, documentId, contentHash, collection: opts.collection, uri };
  if (opts.force) payload.force = true;
  if (opts.acceptLowQuality) payload.acceptLowQuality = true;
  return payload;
}

/**
 * Splits items into batches of at most `size` in which no uri appears twice (one
 * statement cannot update a row twice): a repeated uri starts the next batch, so
 * the later occurrence is recorded after the earlier one, as one by one.
 */
export function batchesOf(items: readonly HashedItem[], size: number): HashedItem[][] {
  const batches: HashedItem[][] = [];
  let current: HashedItem[] = [];
  let uris = new Set<string>();
  for (const item of items) {
    if (current.length >= size || uris.has(item.uri)) {
      batches.push(current);
      current = [];
      uris = new Set();
    }
    current.push(item);
    uris.add(item.uri);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function emptySummary(): IngestSummary {
  return { files: 0, queued: 0, unchanged: 0, inFlight: 0, refused: 0, waitIds: [], ids: [], refusedIds: [] };
}

/** One summary for several ingest calls (files and bucket objects in one command). */
export function mergeSummaries(parts: IngestSummary[]): IngestSummary {
  const out = emptySummary();
  for (const p of parts) {
    out.files += p.files;
    out.queued += p.queued;
    out.unchanged += p.unchanged;
    out.inFlight += p.inFlight;
    out.refused += p.refused;
    out.waitIds.push(...p.waitIds);
    out.ids.push(...p.ids);
    out.refusedIds.push(...p.refusedIds);
  }
  return out;
}

export interface WaitProgress {
  total: number;
  done: number;
  failed: number;
  pending: number;
}

/**
 * Polls document statuses until none of ids is queued or processing, the deadline
 * passes (timedOut), or `signal` aborts (interrupted: Ctrl-C under `sluice run`).
 */
export async function waitForDocuments(
  rt: Runtime,
  ids: number[],
  opts: {
    intervalMs?: number;
    timeoutMs?: number;
    onTick?: (p: WaitProgress) => void;
    signal?: AbortSignal;
  } = {},
): Promise<WaitProgress & { timedOut: boolean; interrupted: boolean }> {
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
  for (;;) {
    // A lost connection (Postgres restarted, backend terminated) is retried, not fatal to the wait;
    // anything else (no schema, a permission) would fail the same way forever: it ends the wait.
    const c = await statusCounts(rt.pool, ids).catch((err: unknown) => {
      // A SQLSTATE outside connection (08), transaction rollback (40), resources (53) and
      // operator intervention (57) is Postgres saying no for good.
      const state = sqlStateOf(err);
      if (state && !/^(08|40|53|57)/.test(state)) throw err;
      return undefined;
    });
    if (!c) {
      const interrupted = opts.signal?.aborted === true;
      if (interrupted || Date.now() > deadline)
        return {
          total: ids.length,
          done: 0,
          failed: 0,
          pending: ids.length,
          timedOut: !interrupted,
          interrupted,
        };
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const progress = {
      total: ids.length,
      done: c.done + c.skipped + c.deleted,
      failed: c.failed + c.stale, // stale: the new version failed, the last good one still serves
      pending: c.queued + c.processing,
    };
    opts.onTick?.(progress);
    if (progress.pending === 0) return { ...progress, timedOut: false, interrupted: false };
    if (opts.signal?.aborted) return { ...progress, timedOut: false, interrupted: true };
    if (Date.now() > deadline) return { ...progress, timedOut: true, interrupted: false };
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

// Producer: turns source files into document rows and extract jobs. Files are
// sized and hashed first, all of them, so an unreadable one stops the command
// before anything is enqueued; the size limit is decided from stat, not by reading.

import { statusCounts, upsertDocument, upsertRefused } from '../loaders/documents.ts';
import { hashFile, type SourceFile } from '../sources/files.ts';
import type { JobPayload } from './jobs.ts';
import { enqueue } from './queues.ts';
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
  await rt.collection(opts.collection); // a dimension mismatch stops here, before anything is queued
  const summary: IngestSummary = {
    files: files.length,
    queued: 0,
    unchanged: 0,
    inFlight: 0,
    refused: 0,
    waitIds: [],
    ids: [],
    refusedIds: [],
  };
  let done = 0;
  await mapLimit(files, 16, async (file, i) => {
    const hash = hashes[i];
    if (hash === undefined) {
      const id = await upsertRefused(rt.pool, {
        collection: opts.collection,
        uri: file.path,
        bytes: file.bytes,
        code: 'TOO_LARGE',
        message: `${file.bytes} bytes is over the ${max}-byte limit (SLUICE_MAX_FILE_BYTES)`,
      });
      summary.refused++;
      summary.ids.push(id);
      summary.refusedIds.push(id);
    } else {
      const { id, action } = await upsertDocument(rt.pool, {
        collection: opts.collection,
        uri: file.path,
        contentHash: hash,
        bytes: file.bytes,
        force: opts.force === true,
      });
      summary.ids.push(id);
      if (action === 'unchanged') summary.unchanged++;
      else {
        const payload: JobPayload = {
          v: 1,
          documentId: id,
          contentHash: hash,
          collection: opts.collection,
          uri: file.path,
        };
        if (opts.force) payload.force = true;
        // In flight: re-enqueue anyway. The deterministic job id makes it a no-op
        // while the job exists, and recovers it if Redis lost it.
        await enqueue(rt.queues, 'extract', payload);
        if (action === 'queued') summary.queued++;
        else summary.inFlight++;
        summary.waitIds.push(id);
      }
    }
    opts.onProgress?.(++done, files.length);
  });
  return summary;
}

export interface WaitProgress {
  total: number;
  done: number;
  failed: number;
  pending: number;
}

/** Polls document statuses until none of ids is queued or processing (or the deadline passes). */
export async function waitForDocuments(
  rt: Runtime,
  ids: number[],
  opts: { intervalMs?: number; timeoutMs?: number; onTick?: (p: WaitProgress) => void } = {},
): Promise<WaitProgress & { timedOut: boolean }> {
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
  for (;;) {
    // A lost connection (Postgres restarted, backend terminated) is retried, not fatal to the wait.
    const c = await statusCounts(rt.pool, ids).catch(() => undefined);
    if (!c) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const progress = {
      total: ids.length,
      done: c.done + c.skipped + c.deleted,
      failed: c.failed,
      pending: c.queued + c.processing,
    };
    opts.onTick?.(progress);
    if (progress.pending === 0) return { ...progress, timedOut: false };
    if (Date.now() > deadline) return { ...progress, timedOut: true };
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

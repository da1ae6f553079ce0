// Retries. The one retry policy (how many tries a transient failure gets and how
// long between them), used by the worker wrapper for BullMQ jobs and by the embed
// service for provider requests; a failure is retried at one level only, so
// tries never multiply. Also re-queueing failed documents from the start: the one
// implementation behind `sluice retry` and the dashboard's Retry buttons. Only
// failed (and stale) documents are re-queued (a done, queued or deleted one is left
// alone), each version at extract with --force semantics.
import type { Pool } from '../db/pool.ts';
import { canChange } from '../loaders/document-state.ts';
import { type DocumentRow, requeue } from '../loaders/documents.ts';
import { payloadFor } from './jobs.ts';
import { mapLimit } from './producer.ts';
import { enqueue, type Queues } from './queues.ts';

/** How often and how patiently a transient failure is tried (SLUICE_ATTEMPTS, SLUICE_BACKOFF_MS). */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the next try after `triesMade` failed ones. */
  delayMs(triesMade: number, err?: unknown): number;
}

export function retryPolicy(settings: { attempts: number; backoffMs: number }): RetryPolicy {
  return {
    attempts: settings.attempts,
    delayMs: (triesMade, err) => backoffDelay(triesMade, settings.backoffMs, err),
  };
}

/** Backoff: exponential with full jitter, never sooner than the provider's Retry-After. */
export function backoffDelay(attemptsMade: number, baseMs: number, err?: unknown): number {
  const exp = baseMs * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exp / 2 + Math.random() * (exp / 2);
  const retryAfter = (err as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
  return Math.max(jittered, typeof retryAfter === 'number' ? retryAfter * 1000 : 0);
}

export interface RetryResult {
  retried: number[];
  /** Refused before hashing (e.g. too large): only a fresh `sluice ingest` can bring them back. */
  needIngest: number[];
}

/** Resets each failed document's error and re-enqueues its version at extract. */
export async function retryDocuments(
  deps: { pool: Pool; queues: Queues },
  docs: readonly DocumentRow[],
): Promise<RetryResult> {
  const result: RetryResult = { retried: [], needIngest: [] };
  const todo: Array<DocumentRow & { content_hash: string }> = [];
  for (const d of docs) {
    if (!canChange('retry', d.status)) continue;
    if (d.content_hash) todo.push({ ...d, content_hash: d.content_hash });
    else result.needIngest.push(d.id);
  }
  await mapLimit(todo, 16, async (d) => {
    // The guarded update fails when the document changed meanwhile (a worker or another retry).
    if (!(await requeue(deps.pool, d.id))) return;
    await enqueue(deps.queues, 'extract', payloadFor(d, true));
    result.retried.push(d.id);
  });
  return result;
}

// Re-queueing failed documents from the start: the one implementation behind
// `sluice retry` and the dashboard's Retry buttons.
import type { Pool } from '../db/pool.ts';
import { type DocumentRow, requeue } from '../loaders/documents.ts';
import { payloadFor } from './jobs.ts';
import { enqueue, type Queues } from './queues.ts';

export interface RetryResult {
  retried: number[];
  /** Refused before hashing (e.g. too large): only a fresh `sluice ingest` can bring them back. */
  needIngest: number[];
}

/** Resets each document's error and re-enqueues its version at extract (with --force semantics). */
export async function retryDocuments(
  deps: { pool: Pool; queues: Queues },
  docs: readonly DocumentRow[],
): Promise<RetryResult> {
  const result: RetryResult = { retried: [], needIngest: [] };
  for (const d of docs) {
    if (!d.content_hash) {
      result.needIngest.push(d.id);
      continue;
    }
    await requeue(deps.pool, d.id);
    await enqueue(deps.queues, 'extract', payloadFor({ ...d, content_hash: d.content_hash }, true));
    result.retried.push(d.id);
  }
  return result;
}

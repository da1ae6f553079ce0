// Re-queueing failed documents from the start: the one implementation behind
// `sluice retry` and the dashboard's Retry buttons. Only failed (and stale) documents
// are re-queued (a done, queued or deleted one is left alone), each version at
// extract with --force semantics. (How often a job is tried: retry-policy.ts.)
import type { Pool } from '../db/pool.ts';
import { canChange } from '../loaders/document-state.ts';
import { type DocumentRow, requeue } from '../loaders/documents.ts';
import { payloadFor } from './jobs.ts';
import { mapLimit } from './producer.ts';
import { enqueue, type Queues } from './queues.ts';

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

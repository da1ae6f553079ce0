// The reconciler: Postgres is the ledger, Redis only carries work. A document
// that is queued or processing but has no live job (its job stalled past
// BullMQ's limit, Redis lost a write, a process died between two steps) is put
// back on its stage's queue. The same tick builds HNSW indexes of collections
// that have gone idle (see buildMissingIndexes). Runs in every worker; a Redis lock keeps one sweep
// at a time across machines. Stalls are treated as transient, with a cap so a
// document that kills its worker every time still ends failed with a reason.
import { markFailed, type Stage } from '../loaders/documents.ts';
import { buildMissingIndexes } from '../loaders/pgvector.ts';
import { type JobPayload, jobId } from './jobs.ts';
import { enqueue } from './queues.ts';
import type { Runtime } from './runtime.ts';

export interface ReconcileResult {
  checked: number;
  requeued: number;
  failed: number;
}

interface Candidate {
  id: string;
  collection: string;
  uri: string;
  content_hash: string;
  stage: Stage | null;
  attempts: number;
}

/** One sweep. `staleMs`: only documents untouched this long are looked at (their job had time to exist). */
export async function reconcile(
  rt: Runtime,
  opts: { staleMs: number; limit?: number },
): Promise<ReconcileResult> {
  const lock = `${rt.config.queuePrefix}:reconcile-lock`;
  const got = await rt.redis.set(lock, String(process.pid), 'PX', Math.max(opts.staleMs, 5000), 'NX');
  const result: ReconcileResult = { checked: 0, requeued: 0, failed: 0 };
  if (got !== 'OK') return result;
  const { rows } = await rt.pool.query<Candidate>(
    `SELECT id, collection, uri, content_hash, stage, attempts FROM sluice.documents
     WHERE status IN ('queued', 'processing') AND content_hash IS NOT NULL
       AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
     ORDER BY updated_at LIMIT $2`,
    [opts.staleMs, opts.limit ?? 500],
  );
  const maxRequeues = rt.config.attempts * 3;
  for (const doc of rows) {
    result.checked++;
    const stage = doc.stage ?? 'extract';
    const payload: JobPayload = {
      v: 1,
      documentId: Number(doc.id),
      contentHash: doc.content_hash,
      collection: doc.collection,
      uri: doc.uri,
    };
    const job = await rt.queues[stage].getJob(jobId(stage, payload));
    const state = job ? await job.getState() : 'missing';
    if (state === 'waiting' || state === 'active' || state === 'delayed' || state === 'prioritized') continue;
    if (state === 'waiting-children') continue;
    if (doc.attempts >= maxRequeues) {
      await markFailed(rt.pool, payload.documentId, payload.contentHash, {
        code: 'INTERNAL',
        message: `the ${stage} stage was interrupted ${doc.attempts} times (worker crashes or stalls); see worker logs, then \`sluice retry\``,
        stage,
        attempts: doc.attempts,
      });
      result.failed++;
      continue;
    }
    // Bump attempts and updated_at first, so a concurrent sweep (after the lock lapses) waits again.
    const { rowCount } = await rt.pool.query(
      `UPDATE sluice.documents SET attempts = attempts + 1, updated_at = now()
       WHERE id = $1 AND content_hash = $2 AND status IN ('queued', 'processing')`,
      [payload.documentId, payload.contentHash],
    );
    if (rowCount !== 1) continue;
    await enqueue(rt.queues, stage, payload);
    result.requeued++;
    rt.log.info(`reconciler: re-queued document ${payload.documentId} at ${stage} (its job was ${state})`);
  }
  await rt.redis.del(lock);
  return result;
}

/** Runs reconcile() now and then every intervalMs until stopped. */
export function startReconciler(rt: Runtime, intervalMs: number): { stop(): Promise<void> } {
  const staleMs = Math.max(rt.config.lockDurationMs + rt.config.stalledIntervalMs, 2000) * 2;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let indexing: Promise<unknown> | undefined;
  const tick = async () => {
    try {
      await reconcile(rt, { staleMs });
    } catch (err) {
      rt.log.warn(`reconciler: ${(err as Error).message}`);
    }
    // Index builds can take long; they run beside the sweep, one at a time.
    if (!indexing && !stopped) {
      indexing = buildMissingIndexes(rt.pool)
        .catch((err) => rt.log.warn(`index build: ${(err as Error).message}`))
        .finally(() => {
          indexing = undefined;
        });
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, Math.min(intervalMs, 1000));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await indexing;
    },
  };
}

// The reconciler: Postgres is the ledger, Redis only carries work. A document
// that is queued or processing but has no live job (its job stalled past
// BullMQ's limit, Redis lost a write, a process died between two steps) is put
// back on its stage's queue. The same tick builds HNSW indexes of collections
// that have gone idle (see buildMissingIndexes). Runs in every worker; a Redis lock keeps one sweep
// at a time across machines. Stalls are treated as transient, with a cap so a
// document that kills its worker every time still ends failed with a reason.
import { bumpRequeue, markFailed, staleInFlight } from '../loaders/documents.ts';
import { buildMissingIndexes } from '../loaders/pgvector.ts';
import { autoSwitch, markBuildsReady, reconcileGenerations } from './generations.ts';
import { jobId, payloadFor } from './jobs.ts';
import { enqueue, FINISHED } from './queues.ts';
import type { Runtime } from './runtime.ts';
import { tryLease } from './sweep-lock.ts';

export interface ReconcileResult {
  checked: number;
  requeued: number;
  failed: number;
}

/** One sweep. `staleMs`: only documents untouched this long are looked at (their job had time to exist). */
export async function reconcile(
  rt: Runtime,
  opts: { staleMs: number; limit?: number },
): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, requeued: 0, failed: 0 };
  const lockKey = `${rt.config.queuePrefix}:reconcile-lock`;
  const lease = await tryLease(rt.redis, lockKey, Math.max(opts.staleMs, 5000));
  if (!lease) return result;
  try {
    await sweep(rt, opts, result);
  } finally {
    // Only our own lease: after a long sweep it may have lapsed and another sweep hold it.
    await lease.release().catch(() => undefined);
  }
  return result;
}

async function sweep(rt: Runtime, opts: { staleMs: number; limit?: number }, result: ReconcileResult) {
  const rows = await staleInFlight(rt.pool, opts.staleMs, opts.limit ?? 500);
  const maxRequeues = rt.config.attempts * 3;
  for (const doc of rows) {
    result.checked++;
    const stage = doc.stage ?? 'extract';
    const payload = payloadFor(doc);
    const job = await rt.queues[stage].getJob(jobId(stage, payload));
    const state = job ? await job.getState() : 'missing';
    if (job && !FINISHED.has(state)) continue; // its job is still waiting or running
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
    if (!(await bumpRequeue(rt.pool, payload.documentId, payload.contentHash))) continue;
    await enqueue(rt.queues, stage, payload);
    result.requeued++;
    rt.log.info(`reconciler: re-queued document ${payload.documentId} at ${stage} (its job was ${state})`);
  }
  const built = await reconcileGenerations(rt, opts);
  result.requeued += built.requeued;
  result.failed += built.failed;
  await markBuildsReady(rt);
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
      // Builds' indexes too, so a ready build then switches (--auto-switch) at once.
      indexing = buildMissingIndexes(rt.pool)
        .then(() => autoSwitch(rt))
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

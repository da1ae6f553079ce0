// The reconciler: Postgres is the ledger, Redis only carries work. A document
// that is queued or processing but has no live job (its job stalled past
// BullMQ's limit, Redis lost a write, a process died between two steps) is put
// back on its stage's queue. The same tick builds HNSW indexes of collections
// that have gone idle (see buildMissingIndexes). Runs in every worker; a lease (a Redis key, or a
// sluice.leases row when the queue is in Postgres) keeps one sweep at a time across machines. Stalls are treated as transient, with a cap so a
// document that kills its worker every time still ends failed with a reason.
import type { Job, Queue } from 'bullmq';
import { bumpRequeues, type InFlightRow, markFailed, staleInFlight } from '../loaders/documents.ts';
import { buildMissingIndexes } from '../loaders/pgvector.ts';
import { autoSwitch, markBuildsReady, reconcileGenerations } from './generations.ts';
import { type JobPayload, jobId, nextStage, payloadFor, STAGES, type StageName } from './jobs.ts';
import { mapLimit } from './producer.ts';
import { FINISHED } from './queues.ts';
import type { Runtime } from './runtime.ts';
import type { Lease } from './sweep-lock.ts';

/** The lease that keeps one sweep at a time (a Redis key `<prefix>:reconcile-lock` in Redis mode). */
export const RECONCILE_LEASE = 'reconcile-lock';

export interface ReconcileResult {
  checked: number;
  requeued: number;
  failed: number;
}

/**
 * One sweep over every stale document. `staleMs`: only documents untouched this
 * long are looked at (their job had time to exist); `limit`: page size.
 */
export async function reconcile(
  rt: Runtime,
  opts: { staleMs: number; limit?: number },
): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, requeued: 0, failed: 0 };
  const lease = await rt.queue.tryLease(RECONCILE_LEASE, Math.max(opts.staleMs, 5000));
  if (!lease) return result;
  try {
    await sweep(rt, opts, result, lease);
  } finally {
    // Only our own lease: after a long sweep it may have lapsed and another sweep hold it.
    await lease.release().catch(() => undefined);
  }
  return result;
}

/**
 * Pages through every stale document, however many (after Redis lost its data
 * that is all of them): recovery takes time in proportion to the work, with no
 * cap per interval. Each page's lost jobs go back in one addBulk per stage.
 */
async function sweep(
  rt: Runtime,
  opts: { staleMs: number; limit?: number },
  result: ReconcileResult,
  lease: Lease,
) {
  const pageSize = opts.limit ?? 500;
  for (let after = 0; ; ) {
    const rows = await staleInFlight(rt.pool, opts.staleMs, pageSize, after);
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]!.id);
    await requeueLost(rt, rows, result);
    if (rows.length < pageSize) break;
    // A lapsed lease only lets another sweep start: bumpRequeues keeps both from re-queueing a document twice.
    await lease.extend();
  }
  const built = await reconcileGenerations(rt, opts);
  result.requeued += built.requeued;
  result.failed += built.failed;
  await markBuildsReady(rt);
}

async function isLive(queue: Queue, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  return job !== undefined && !FINISHED.has(await job.getState());
}

interface Lost {
  stage: StageName;
  payload: JobPayload;
  attempts: number;
  /** Its finished job, which would swallow a new one with the same id (see enqueue). */
  job: Job | undefined;
}

/** Re-queues the documents of one page whose job is gone or finished; fails those interrupted too often. */
async function requeueLost(rt: Runtime, rows: InFlightRow[], result: ReconcileResult): Promise<void> {
  result.checked += rows.length;
  const found = await mapLimit(rows, 16, async (doc): Promise<Lost | undefined> => {
    const stage = doc.stage ?? 'extract';
    const payload = payloadFor(doc);
    const job = await rt.queues[stage].getJob(jobId(stage, payload));
    const state = job ? await job.getState() : 'missing';
    if (!FINISHED.has(state) && state !== 'missing') return undefined; // still waiting or running
    // Its stage completed and queued the next, which has not marked the document yet
    // (it waits out an outage, say): the document is in flight, not lost.
    const next = nextStage(stage);
    if (state === 'completed' && next && (await isLive(rt.queues[next], jobId(next, payload))))
      return undefined;
    return { stage, payload, attempts: doc.attempts, job };
  });
  const maxRequeues = rt.config.attempts * 3;
  const lost: Lost[] = [];
  for (const l of found) {
    if (!l) continue;
    if (l.attempts < maxRequeues) {
      lost.push(l);
      continue;
    }
    await markFailed(rt.pool, l.payload.documentId, l.payload.contentHash, {
      code: 'INTERNAL',
      message: `the ${l.stage} stage was interrupted ${l.attempts} times (worker crashes or stalls); see worker logs, then \`sluice retry\``,
      stage: l.stage,
      attempts: l.attempts,
    });
    result.failed++;
  }
  // Bump attempts and updated_at first, so a concurrent sweep (after the lease lapses) waits again.
  const bumped = await bumpRequeues(
    rt.pool,
    lost.map((l) => ({ id: l.payload.documentId, hash: l.payload.contentHash })),
  );
  for (const stage of STAGES) {
    const todo = lost.filter((l) => l.stage === stage && bumped.has(l.payload.documentId));
    if (todo.length === 0) continue;
    await Promise.all(todo.map((l) => l.job?.remove().catch(() => undefined)));
    await rt.queues[stage].addBulk(
      todo.map((l) => ({ name: stage, data: l.payload, opts: { jobId: jobId(stage, l.payload) } })),
    );
    result.requeued += todo.length;
    rt.log.info(
      `reconciler: re-queued ${todo.length} document(s) at ${stage} whose job was lost or finished`,
    );
  }
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
      indexing = buildMissingIndexes(rt.sessionPool)
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

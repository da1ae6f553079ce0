// Generation upkeep, run by every worker's maintenance tick and by the CLI:
// re-queue build documents whose job was lost (as the reconciler does for live
// ones), mark complete builds ready, and switch the ones asked to (--auto-switch)
// once their HNSW index is built.

import { setTimeout as sleep } from 'node:timers/promises';
import { SluiceError } from '../errors.ts';
import { bumpGenerationRequeue, failGenerationDoc, staleGenerationDocs } from '../loaders/generation-docs.ts';
import { activateGeneration } from '../loaders/generation-switch.ts';
import { autoSwitchable, buildingGenerations, markReadyIfComplete } from '../loaders/generations.ts';
import { ensureGenerationIndex, type IndexOutcome } from '../loaders/pgvector.ts';
import { type JobPayload, jobId } from './jobs.ts';
import { enqueue, FINISHED } from './queues.ts';
import type { Runtime } from './runtime.ts';

/** Puts build documents without a live job back on their stage's queue. */
export async function reconcileGenerations(
  rt: Runtime,
  opts: { staleMs: number; limit?: number },
): Promise<{ requeued: number; failed: number }> {
  const out = { requeued: 0, failed: 0 };
  const maxRequeues = rt.config.attempts * 3;
  for (const d of await staleGenerationDocs(rt.pool, opts.staleMs, opts.limit ?? 500)) {
    const stage = d.stage ?? 'extract';
    const payload: JobPayload = {
      v: 1,
      documentId: Number(d.document_id),
      contentHash: d.content_hash,
      collection: d.collection,
      uri: d.uri,
      generation: d.generation,
    };
    const job = await rt.queues[stage].getJob(jobId(stage, payload));
    if (job && !FINISHED.has(await job.getState())) continue;
    const ref = { ...payload, generation: d.generation };
    if (d.attempts >= maxRequeues) {
      await failGenerationDoc(rt.pool, ref, {
        code: 'INTERNAL',
        message: `the ${stage} stage was interrupted ${d.attempts} times (worker crashes or stalls); see worker logs`,
        stage,
        attempts: d.attempts,
      });
      out.failed++;
      continue;
    }
    if (!(await bumpGenerationRequeue(rt.pool, ref))) continue;
    await enqueue(rt.queues, stage, payload);
    out.requeued++;
    rt.log.info(
      `reconciler: re-queued document ${payload.documentId} of generation ${d.generation} at ${stage}`,
    );
  }
  return out;
}

/**
 * Marks builds with nothing left in flight ready (the last document may have
 * failed or been deleted rather than loaded).
 */
export async function markBuildsReady(rt: Runtime): Promise<void> {
  for (const g of await buildingGenerations(rt.pool))
    await markReadyIfComplete(rt.pool, g.collection, g.generation);
}

/** Switches ready builds that asked for it (--auto-switch), their index built first. */
export async function autoSwitch(rt: Runtime): Promise<string[]> {
  const switched: string[] = [];
  for (const g of await autoSwitchable(rt.pool)) {
    const index = await ensureGenerationIndex(rt.sessionPool, g.collection, g.generation);
    if (index === 'busy') continue; // another process is building it: next tick
    try {
      await activateGeneration(rt.pool, g.collection, g.generation, { requireReady: true });
    } catch (err) {
      // New work arrived for it meanwhile (a live edit): it switches once that is built.
      rt.log.info(
        `auto-switch of "${g.collection}" to generation ${g.generation} waits: ${(err as Error).message}`,
      );
      continue;
    }
    rt.log.info(`collection "${g.collection}" switched to generation ${g.generation} (--auto-switch)`);
    switched.push(`${g.collection}#${g.generation}`);
  }
  return switched;
}

/**
 * Builds the generation's HNSW index (waiting while another process builds it),
 * then makes it active in one transaction, so the first search after the switch
 * already has its index.
 */
export async function switchTo(
  rt: Runtime,
  collection: string,
  generation: number,
  opts: { requireReady: boolean; timeoutMs?: number },
): Promise<{ from: number; to: number; index: IndexOutcome }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let index = await ensureGenerationIndex(rt.sessionPool, collection, generation);
  while (index === 'busy') {
    if (Date.now() > deadline) {
      throw new SluiceError(
        'CONNECTION_ERROR',
        `the index of generation ${generation} is still being built by another process; try again later`,
      );
    }
    await sleep(500);
    index = await ensureGenerationIndex(rt.sessionPool, collection, generation);
  }
  const moved = await activateGeneration(rt.pool, collection, generation, opts);
  return { ...moved, index };
}

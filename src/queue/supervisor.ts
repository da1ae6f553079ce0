// Starts the stage workers a process runs and closes them together: on close,
// jobs in hand finish (or their locks lapse and another worker takes them).
import type { Worker } from 'bullmq';
import type { StageName } from './jobs.ts';
import { appendOnly, appendOnlyWarning, evictionPolicy } from './queues.ts';
import { startReconciler } from './reconcile.ts';
import type { Runtime } from './runtime.ts';
import { createStageWorker, type StageWorkerOptions } from './worker.ts';

export interface WorkerSet {
  workers: Worker[];
  close(): Promise<void>;
}

export async function startWorkers(
  rt: Runtime,
  stages: StageName[],
  opts: StageWorkerOptions,
): Promise<WorkerSet> {
  const policy = await evictionPolicy(rt.redis);
  if (policy !== undefined && policy !== 'noeviction') {
    rt.log.warn(
      `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict queued jobs. Set it to "noeviction".`,
    );
  }
  const persistence = appendOnlyWarning(await appendOnly(rt.redis));
  if (persistence) rt.log.warn(persistence);
  // Tracing first, so the first jobs are traced too; its libraries load only when switched on.
  const tracing = rt.config.otelEndpoint
    ? await (await import('./tracing.ts')).startTracing({ endpoint: rt.config.otelEndpoint })
    : undefined;
  const workers = stages.map((stage) =>
    // Embedding waits on the network, not the CPU: give it more jobs in flight so batches fill up.
    createStageWorker(rt, stage, {
      ...opts,
      concurrency: stage === 'embed' ? opts.concurrency * 4 : opts.concurrency,
    }),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const reconciler = startReconciler(rt, Math.max(5000, Math.min(60_000, rt.config.lockDurationMs * 2)));
  return {
    workers,
    async close() {
      await reconciler.stop();
      await Promise.all(workers.map((w) => w.close()));
      await tracing?.shutdown();
    },
  };
}

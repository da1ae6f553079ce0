// Starts the stage workers a process runs and closes them together: on close,
// jobs in hand finish (or their locks lapse and another worker takes them).
import type { Worker } from 'bullmq';
import type { Logger } from '../log.ts';
import type { RedisClient } from './connection.ts';
import type { StageName } from './jobs.ts';
import { appendOnly, appendOnlyWarning, evictionPolicy } from './queues.ts';
import { startReconciler } from './reconcile.ts';
import type { Runtime } from './runtime.ts';
import { createStageWorker, type StageWorkerOptions } from './worker.ts';

export interface WorkerSet {
  workers: Worker[];
  close(): Promise<void>;
}

/** Redis settings that lose queued jobs: eviction, no persistence (Redis mode only). */
async function warnAboutRedis(redis: RedisClient, log: Logger): Promise<void> {
  const policy = await evictionPolicy(redis);
  if (policy !== undefined && policy !== 'noeviction') {
    log.warn(
      `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict queued jobs. Set it to "noeviction".`,
    );
  }
  const persistence = appendOnlyWarning(await appendOnly(redis));
  if (persistence) log.warn(persistence);
}

export async function startWorkers(
  rt: Runtime,
  stages: StageName[],
  opts: StageWorkerOptions,
): Promise<WorkerSet> {
  if (rt.redis) await warnAboutRedis(rt.redis, rt.log);
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

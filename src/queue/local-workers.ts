// The workers this process runs, by queue store and queue name. On the embedded
// database every worker is in this process (one process opens it), and its one
// shared session leaves pg_stat_activity without a row per worker, so BullMQ's
// PostgreSQL backend cannot count them: backend-postgres.ts counts these instead.
import type { Worker } from 'bullmq';

const running = new Map<string, Set<Worker>>();

/** Counts `worker` under `key` from now until it closes. */
export function trackWorker(key: string, worker: Worker): void {
  const set = running.get(key) ?? new Set<Worker>();
  running.set(key, set);
  set.add(worker);
  worker.once('closed', () => {
    set.delete(worker);
    if (set.size === 0 && running.get(key) === set) running.delete(key);
  });
}

/** How many tracked workers under `key` have not closed yet. */
export function countWorkers(key: string): number {
  return running.get(key)?.size ?? 0;
}

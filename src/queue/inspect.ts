// What the stage queues look like right now, for the dashboard and /metrics:
// depth by state, how many workers consume each stage, and how long the oldest
// waiting job has waited (the "ingestion silently stalls" signal).
import { STAGES, type StageName } from './jobs.ts';
import { type QueueDepths, type Queues, queueDepths } from './queues.ts';

export interface StageQueue extends QueueDepths {
  /** Workers connected to this stage's queue (any machine). */
  workers: number;
  /** Age of the oldest job waiting to start, in ms; null when none waits. */
  oldestWaitingMs: number | null;
}

export async function inspectQueues(
  queues: Queues,
  now = Date.now(),
): Promise<Record<StageName, StageQueue>> {
  const depths = await queueDepths(queues);
  const entries = await Promise.all(
    STAGES.map(async (stage) => {
      const q = queues[stage];
      const [workers, oldest] = await Promise.all([
        q.getWorkersCount(),
        // Ascending: the job at the consuming end of the wait list, i.e. the longest waiting.
        q.getJobs(['wait', 'prioritized'], 0, 0, true),
      ]);
      const stamps = oldest.map((j) => j?.timestamp).filter((t): t is number => typeof t === 'number');
      const first = stamps.length > 0 ? Math.min(...stamps) : undefined;
      const row: StageQueue = {
        ...depths[stage],
        workers,
        oldestWaitingMs: first === undefined ? null : Math.max(0, now - first),
      };
      return [stage, row] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<StageName, StageQueue>;
}

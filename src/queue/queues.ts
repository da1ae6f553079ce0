// The four stage queues on the queue backend (backend.ts: Redis or Postgres), and
// what sluice asks of a Redis (eviction policy, persistence).
import type { Queue } from 'bullmq';
import type { QueueBackend } from './backend.ts';
import type { RedisClient } from './connection.ts';
import { type JobPayload, jobId, STAGES, type StageName } from './jobs.ts';

export type Queues = Record<StageName, Queue<JobPayload>>;

/** Finished-job retention: enough to inspect recent history, bounded so Redis never grows without end. */
export const RETENTION = {
  removeOnComplete: { count: 1000, age: 24 * 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
} as const;

/** A Redis CONFIG value, or undefined when CONFIG is not allowed (managed Redis). */
async function configValue(redis: RedisClient, name: string): Promise<string | undefined> {
  try {
    const res = (await redis.config('GET', name)) as string[];
    return res[1];
  } catch {
    return undefined;
  }
}

/** The eviction policy, or undefined when CONFIG is not allowed (managed Redis). */
export function evictionPolicy(redis: RedisClient): Promise<string | undefined> {
  return configValue(redis, 'maxmemory-policy');
}

/** Whether Redis persists every write (appendonly): 'yes', 'no', or undefined when CONFIG is not allowed. */
export function appendOnly(redis: RedisClient): Promise<string | undefined> {
  return configValue(redis, 'appendonly');
}

/** The warning for a Redis that does not persist every write, or undefined when it does (or cannot tell). */
export function appendOnlyWarning(value: string | undefined): string | undefined {
  return value === 'no'
    ? 'Redis has appendonly no: a Redis restart loses queued jobs (the reconciler re-queues them from Postgres, late). Set appendonly yes.'
    : undefined;
}

/** The backend each queue was built on, for the existence checks of enqueueMany. */
const backendOf = new WeakMap<Queue<JobPayload>, QueueBackend>();

/** The stage queues; every job gets `attempts` tries with the worker's custom backoff. */
export function createQueues(backend: QueueBackend, attempts = 6): Queues {
  const defaultJobOptions = { attempts, backoff: { type: 'custom' }, ...RETENTION };
  const entries = STAGES.map((stage) => [stage, backend.queue(stage, defaultJobOptions)] as const);
  for (const [, q] of entries) backendOf.set(q, backend);
  // Connection errors surface through the failing command; an unhandled 'error' event would only print noise.
  for (const [, q] of entries) q.on('error', () => undefined);
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

export type EnqueueResult = 'added' | 'in-flight';

/** Job states in which a job will do nothing more: anything else is waiting or running. */
export const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed', 'unknown']);

/**
 * Adds a stage job unless the same (stage, document, version) is already waiting
 * or running. A finished job with that id is removed first: BullMQ ids only
 * deduplicate while the job exists, and a completed one would swallow the add.
 */
export async function enqueue(queues: Queues, stage: StageName, payload: JobPayload): Promise<EnqueueResult> {
  const [result] = await enqueueMany(queues, stage, [payload]);
  return result!;
}

/**
 * enqueue() for many jobs of one stage in few round trips (issue #15): which ids
 * exist is asked in few round trips (backend.exists), only jobs that exist have their state read,
 * finished ones are removed, and the rest are added together. Results in input order.
 */
export async function enqueueMany(
  queues: Queues,
  stage: StageName,
  payloads: readonly JobPayload[],
): Promise<EnqueueResult[]> {
  if (payloads.length === 0) return [];
  const queue = queues[stage];
  const ids = payloads.map((p) => jobId(stage, p));
  const backend = backendOf.get(queue);
  if (!backend) throw new Error('enqueueMany: the queues were not made by createQueues');
  const found = await backend.exists(queue, ids);
  const results = await Promise.all(
    ids.map(async (id, i): Promise<EnqueueResult> => {
      if (!found[i]) return 'added';
      if (!FINISHED.has(await queue.getJobState(id))) return 'in-flight';
      await queue.remove(id).catch(() => undefined);
      return 'added';
    }),
  );
  const jobs = payloads
    .map((data, i) => ({ name: stage, data, opts: { jobId: ids[i]!, ...priorityOf(data) } }))
    .filter((_, i) => results[i] === 'added');
  if (jobs.length === 1) await queue.add(stage, jobs[0]!.data, jobs[0]!.opts);
  else if (jobs.length > 1) await queue.addBulk(jobs);
  return results;
}

/** Generation builds yield to live ingestion: BullMQ takes every unprioritised job first. */
function priorityOf(payload: JobPayload): { priority?: number } {
  return payload.generation === undefined ? {} : { priority: BUILD_PRIORITY };
}

/** BullMQ priority of re-index jobs (any priority runs after all unprioritised, i.e. live, jobs). */
export const BUILD_PRIORITY = 10;

export interface QueueDepths {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export async function queueDepths(queues: Queues): Promise<Record<StageName, QueueDepths>> {
  const out = {} as Record<StageName, QueueDepths>;
  for (const stage of STAGES) {
    const c = await queues[stage].getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'completed',
      'prioritized',
    );
    out[stage] = {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    };
  }
  return out;
}

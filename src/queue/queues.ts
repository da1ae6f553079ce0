// Redis connections and the four stage queues. Producers fail fast (a CLI must
// say "Redis is down" and exit), workers reconnect forever (BullMQ's production
// rules: maxRetriesPerRequest null for workers).
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { hostOf } from '../config.ts';
import { SluiceError } from '../errors.ts';
import { type JobPayload, jobId, STAGES, type StageName } from './jobs.ts';

export type Queues = Record<StageName, Queue<JobPayload>>;

/** Finished-job retention: enough to inspect recent history, bounded so Redis never grows without end. */
export const RETENTION = {
  removeOnComplete: { count: 1000, age: 24 * 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
} as const;

export function redisOptions(kind: 'producer' | 'worker'): RedisOptions {
  return kind === 'worker'
    ? {
        maxRetriesPerRequest: null,
        enableReadyCheck: true,
        retryStrategy: (n) => Math.min(200 * 2 ** n, 5000),
      }
    : { maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: (n) => (n > 2 ? null : 200 * n) };
}

// Redis' replies to a refused AUTH (or to a command sent without one).
const AUTH_REFUSED = /\b(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i;

/** Opens a Redis connection and proves it answers; CONNECTION_ERROR naming the host, or CONFIG_ERROR for refused credentials. */
export async function connectRedis(url: string, kind: 'producer' | 'worker'): Promise<Redis> {
  const redis = new Redis(url, { ...redisOptions(kind), lazyConnect: true });
  // A refused AUTH arrives here; connect() itself then only says "Connection is closed".
  let refused: Error | undefined;
  redis.on('error', (err: Error) => {
    if (AUTH_REFUSED.test(err.message)) refused = err;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const cause = refused ?? (AUTH_REFUSED.test((err as Error).message) ? (err as Error) : undefined);
    if (cause) throw redisAuthError(url, cause);
    throw new SluiceError(
      'CONNECTION_ERROR',
      `cannot reach Redis at ${hostOf(url)}: ${(err as Error).message.replace(/\.+$/, '')}. Check REDIS_URL and that the server is running.`,
      { cause: err },
    );
  }
}

/** Refused credentials, said as such; the server's reply never holds the password, and neither does hostOf. */
function redisAuthError(url: string, cause: Error): SluiceError {
  const reply = cause.message.split(/[\s.]/)[0] ?? '';
  const what = /NOAUTH/i.test(cause.message)
    ? 'the server requires a password and REDIS_URL has none; add it to REDIS_URL'
    : 'the user or password in REDIS_URL is wrong; check REDIS_URL';
  return new SluiceError(
    'CONFIG_ERROR',
    `authentication to Redis at ${hostOf(url)} failed (${reply}): ${what}`,
    {
      cause,
    },
  );
}

/** A Redis CONFIG value, or undefined when CONFIG is not allowed (managed Redis). */
async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const res = (await redis.config('GET', name)) as string[];
    return res[1];
  } catch {
    return undefined;
  }
}

/** The eviction policy, or undefined when CONFIG is not allowed (managed Redis). */
export function evictionPolicy(redis: Redis): Promise<string | undefined> {
  return configValue(redis, 'maxmemory-policy');
}

/** Whether Redis persists every write (appendonly): 'yes', 'no', or undefined when CONFIG is not allowed. */
export function appendOnly(redis: Redis): Promise<string | undefined> {
  return configValue(redis, 'appendonly');
}

/** The warning for a Redis that does not persist every write, or undefined when it does (or cannot tell). */
export function appendOnlyWarning(value: string | undefined): string | undefined {
  return value === 'no'
    ? 'Redis has appendonly no: a Redis restart loses queued jobs (the reconciler re-queues them from Postgres, late). Set appendonly yes.'
    : undefined;
}

/** The stage queues; every job gets `attempts` tries with the worker's custom backoff. */
export function createQueues(connection: Redis, prefix: string, attempts = 6): Queues {
  const defaultJobOptions = { attempts, backoff: { type: 'custom' }, ...RETENTION };
  const entries = STAGES.map(
    (stage) => [stage, new Queue<JobPayload>(stage, { connection, prefix, defaultJobOptions })] as const,
  );
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
  const queue = queues[stage];
  const id = jobId(stage, payload);
  const existing = await queue.getJob(id);
  if (existing) {
    if (!FINISHED.has(await existing.getState())) return 'in-flight';
    await existing.remove().catch(() => undefined);
  }
  // Generation builds yield to live ingestion: BullMQ takes every unprioritised job first.
  const priority = payload.generation === undefined ? {} : { priority: BUILD_PRIORITY };
  await queue.add(stage, payload, { jobId: id, ...priority });
  return 'added';
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

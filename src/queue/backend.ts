// The one place that chooses where the stage queues live, by one rule: REDIS_URL
// set → Redis, as always; unset → BullMQ's PostgreSQL backend in the DATABASE_URL
// database. Either way the queues are BullMQ (same Queue/Worker API, job ids,
// attempts, backoff, stalls); what differs is behind this interface: how queues
// and workers are built, the job-existence check of enqueueMany, the reconciler's
// lease, the shared embedding rate limit, and the readiness probe.
import type { Processor, Queue, Worker, WorkerOptions } from 'bullmq';
import type { Config } from '../config.ts';
import type { ConnectionKind, RedisClient } from './connection.ts';
import type { JobPayload, StageName } from './jobs.ts';
import type { RateLimiter, RateLimiterOptions } from './rate-limit.ts';
import type { Lease } from './sweep-lock.ts';

export type QueueBackendKind = 'redis' | 'postgres';

/** What a stage worker is given besides its connection (worker.ts decides these). */
export type StageWorkerSettings = Omit<WorkerOptions, 'connection' | 'prefix'>;

export interface QueueBackend {
  readonly kind: QueueBackendKind;
  /** The Redis client in Redis mode, for Redis-only concerns (eviction policy, persistence); undefined on Postgres. */
  readonly redis: RedisClient | undefined;
  /** Where the queues are, for the first line of `run`/`worker` and for `doctor`, e.g. "Redis at host:6379". */
  readonly description: string;
  /** The stage's queue (producer side); its job options are the caller's. */
  queue(stage: StageName, defaultJobOptions: Record<string, unknown>): Queue<JobPayload>;
  /** A worker on the stage's queue that owns (and closes) whatever connection it needs. */
  worker(
    stage: StageName,
    processor: Processor<JobPayload>,
    settings: StageWorkerSettings,
  ): Worker<JobPayload>;
  /** For each id, whether the queue holds a job with that id, in any state (few round trips). */
  exists(queue: Queue<JobPayload>, ids: readonly string[]): Promise<boolean[]>;
  /** A lease that one process at a time holds across machines (the reconciler's sweep), or undefined when taken. */
  tryLease(name: string, ttlMs: number): Promise<Lease | undefined>;
  /** The shared embedding budget of every worker on this queue store. */
  rateLimiter(opts: Omit<RateLimiterOptions, 'redis'>): RateLimiter;
  /** Resolves when the queue store answers. */
  ping(): Promise<void>;
  /** Closes what the backend opened (after the queues and workers built on it). */
  close(): Promise<void>;
}

export interface QueueBackendOptions {
  kind: ConnectionKind;
  /** Postgres mode: pg pool size for queue operations, besides one connection per worker held for LISTEN. */
  poolMax?: number;
}

/** Which backend the rule picks for this configuration. */
export function queueBackendKind(config: Pick<Config, 'redisUrl'>): QueueBackendKind {
  return config.redisUrl === undefined ? 'postgres' : 'redis';
}

/** Connects the backend the rule picks; CONNECTION_ERROR or CONFIG_ERROR saying what to fix. */
export async function connectQueueBackend(config: Config, opts: QueueBackendOptions): Promise<QueueBackend> {
  if (queueBackendKind(config) === 'redis') {
    const { connectRedisBackend } = await import('./backend-redis.ts');
    return connectRedisBackend(config, opts.kind);
  }
  const { connectPostgresBackend } = await import('./backend-postgres.ts');
  return connectPostgresBackend(config, opts.poolMax ?? config.pgPoolMax);
}

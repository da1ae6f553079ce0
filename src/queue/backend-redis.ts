// The stage queues on Redis (REDIS_URL set): every queue shares one connection,
// each worker gets its own blocking duplicate, keys live under the queue prefix,
// and the reconciler's lease and the shared rate limit are Redis keys too.
import { Queue, Worker } from 'bullmq';
import { hostOf } from '../config.ts';
import type { QueueBackend } from './backend.ts';
import { type ConnectionKind, connectRedis, duplicateForWorker, type RedisSettings } from './connection.ts';
import type { JobPayload } from './jobs.ts';
import { createRateLimiter } from './rate-limit.ts';
import { tryLease } from './sweep-lock.ts';

export interface RedisBackendSettings extends Partial<RedisSettings> {
  redisUrl?: string | undefined;
  queuePrefix: string;
}

export async function connectRedisBackend(
  config: RedisBackendSettings,
  kind: ConnectionKind,
): Promise<QueueBackend> {
  const settings: RedisSettings = {
    redisUrl: config.redisUrl ?? '',
    redisCluster: config.redisCluster ?? false,
    redisCaFile: config.redisCaFile,
  };
  const redis = await connectRedis(settings, kind);
  const prefix = config.queuePrefix;
  return {
    kind: 'redis',
    redis,
    description: `Redis at ${hostOf(settings.redisUrl)}${settings.redisCluster ? ' (cluster)' : ''}`,
    queue: (stage, defaultJobOptions) =>
      new Queue<JobPayload>(stage, { connection: redis, prefix, defaultJobOptions }),
    worker(stage, processor, settings) {
      // BullMQ does not close a connection it was handed, so this worker owns and closes its own.
      const connection = duplicateForWorker(redis);
      connection.on('error', () => undefined);
      const worker = new Worker<JobPayload>(stage, processor, { ...settings, connection, prefix });
      worker.on('closed', () => connection.disconnect());
      return worker;
    },
    async exists(queue, ids) {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.exists(queue.toKey(id));
      const found = (await pipeline.exec()) ?? [];
      return ids.map((_, i) => {
        const [err, n] = found[i] ?? [new Error('no reply from Redis'), 0];
        if (err) throw err;
        return n !== 0;
      });
    },
    tryLease: (name, ttlMs) => tryLease(redis, `${prefix}:${name}`, ttlMs),
    rateLimiter: (opts) => createRateLimiter({ ...opts, redis }),
    async ping() {
      await redis.ping();
    },
    async close() {
      redis.disconnect();
    },
  };
}

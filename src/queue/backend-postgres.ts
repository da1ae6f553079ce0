// The stage queues in Postgres (REDIS_URL unset): BullMQ's PostgreSQL backend in
// the DATABASE_URL database, schema `bullmq` (created by `sluice migrate`, never at
// worker start). Its connections come from createPool, a pool of its own on the
// session URL (SLUICE_DIRECT_DATABASE_URL when set): every worker keeps one
// connection for LISTEN for as long as it runs, which must neither starve the
// stages' pool nor sit behind a transaction pooler, where LISTEN cannot work.
// Several sluice installs share one database's `bullmq` schema by queue name:
// `<SLUICE_QUEUE_PREFIX>.<stage>`. On the embedded database the workers of a
// stage are counted in this process (local-workers.ts), not from pg_stat_activity.
import { createPostgresBackend, DEFAULT_SCHEMA, type Queue, type Worker, withBackend } from 'bullmq';
import type { Config } from '../config.ts';
import { hostOf, whereDatabase } from '../config.ts';
import { isEmbeddedUrl } from '../db/embedded/url.ts';
import type { Pool } from '../db/pool.ts';
import { connectionError, createPool, sessionDatabaseUrl } from '../db/pool.ts';
import { SluiceError, sqlStateOf } from '../errors.ts';
import type { QueueBackend } from './backend.ts';
import { type JobPayload, STAGES, type StageName } from './jobs.ts';
import { countWorkers, trackWorker } from './local-workers.ts';
import { createPostgresRateLimiter } from './rate-limit-postgres.ts';
import { tryPostgresLease } from './sweep-lock-postgres.ts';

/** The BullMQ queue name of a stage in Postgres mode: the prefix keeps installs apart. */
export function postgresQueueName(prefix: string, stage: StageName): string {
  return `${prefix}.${stage}`;
}

const bound = withBackend(createPostgresBackend);

export async function connectPostgresBackend(config: Config, poolMax: number): Promise<QueueBackend> {
  const url = sessionDatabaseUrl(config);
  const pool = createPool(url, {
    // One connection per stage worker stays checked out for LISTEN.
    max: poolMax + STAGES.length,
    applicationName: 'sluice-queue',
    searchPath: DEFAULT_SCHEMA,
    refusedWaitMs: 120_000,
  });
  await checkSchema(pool, url).catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  const name = (stage: StageName) => postgresQueueName(config.queuePrefix, stage);
  const embedded = isEmbeddedUrl(url);
  const local = (stage: StageName) => `${url}\n${name(stage)}`;
  return {
    kind: 'postgres',
    redis: undefined,
    description: `PostgreSQL, ${whereDatabase(url)} (schema ${DEFAULT_SCHEMA})`,
    // Typed as the default (Redis) classes the rest of sluice names: the API is the same.
    queue(stage, defaultJobOptions) {
      const queue = new bound.Queue<JobPayload>(name(stage), {
        connection: pool,
        defaultJobOptions,
      }) as unknown as Queue<JobPayload>;
      // getWorkersCount counts what getWorkers lists.
      if (embedded) queue.getWorkers = async () => localWorkerList(countWorkers(local(stage)), name(stage));
      return queue;
    },
    worker(stage, processor, settings) {
      const worker = new bound.Worker<JobPayload>(name(stage), processor as never, {
        ...settings,
        connection: pool,
      }) as unknown as Worker<JobPayload>;
      if (embedded) trackWorker(local(stage), worker);
      return worker;
    },
    exists: (queue, ids) => Promise.all(ids.map(async (id) => (await queue.getJobState(id)) !== 'unknown')),
    tryLease: (lease, ttlMs) => tryPostgresLease(pool, `${config.queuePrefix}:${lease}`, ttlMs),
    rateLimiter: (opts) => createPostgresRateLimiter(pool, opts),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

/** getWorkers' answer for `n` workers of this process, one client entry each, as BullMQ lists them. */
function localWorkerList(n: number, queueName: string): Record<string, string>[] {
  return Array.from({ length: n }, () => ({ name: queueName }));
}

/**
 * Proves the database answers and holds BullMQ's schema, migrated by `sluice
 * migrate`: a worker never migrates it, so many starting at once never race DDL.
 */
async function checkSchema(pool: Pool, url: string): Promise<void> {
  const { rows } = await pool
    .query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${DEFAULT_SCHEMA}.migration`])
    .catch((err: unknown) => {
      throw sqlStateOf(err) ? err : connectionError(err, url);
    });
  if (!rows[0]?.t) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `the queue tables (schema ${DEFAULT_SCHEMA}) are missing in the database at ${hostOf(url)}: run \`sluice migrate\` first (or set REDIS_URL to queue on Redis)`,
    );
  }
}

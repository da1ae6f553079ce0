// Which database and queue a process uses, decided from config alone (no connection):
// the first line of `run`, a field of `doctor`. The rule (README "Going to production"):
// DATABASE_URL unset → the embedded database (config.databaseUrl is `pglite://<dir>`);
// REDIS_URL unset → BullMQ's PostgreSQL backend in that same database.
import { hostOf } from '../config.ts';
import { embeddedDataDir, isEmbeddedUrl } from '../db/embedded/url.ts';
import { queueBackendKind } from '../queue/backend.ts';

export interface Modes {
  database: { kind: 'embedded' | 'server'; where: string };
  queue: { kind: 'redis' | 'postgres'; where: string };
}

export function modesOf(config: { databaseUrl: string; redisUrl?: string | undefined }): Modes {
  return {
    database: isEmbeddedUrl(config.databaseUrl)
      ? { kind: 'embedded', where: embeddedDataDir(config.databaseUrl) }
      : { kind: 'server', where: hostOf(config.databaseUrl) },
    queue:
      queueBackendKind(config) === 'redis'
        ? { kind: 'redis', where: hostOf(config.redisUrl ?? '') }
        : { kind: 'postgres', where: 'same database' },
  };
}

/** "database: server (127.0.0.1:5432) · queue: redis (127.0.0.1:6379)" */
export function modesLine(m: Modes): string {
  return `database: ${m.database.kind} (${m.database.where}) · queue: ${m.queue.kind} (${m.queue.where})`;
}

/** Why `doctor` does not check Redis (the queue is on Postgres), or undefined when it should. */
export function redisSkipReason(m: Modes): string | undefined {
  if (m.queue.kind === 'redis') return undefined;
  return "REDIS_URL is unset: the queue is BullMQ's PostgreSQL backend in the same database, so there is no Redis to check";
}

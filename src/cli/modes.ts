// Which database and queue a process uses, decided from config alone (no connection):
// the first line of `run`, a field of `doctor`. The rule (README "Going to production"):
// DATABASE_URL unset → the embedded database (config.databaseUrl is `pglite://<dir>`);
// REDIS_URL unset → BullMQ's PostgreSQL backend in that same database.
import { hostOf } from '../config.ts';

export interface Modes {
  database: { kind: 'embedded' | 'server'; where: string };
  queue: { kind: 'redis' | 'postgres'; where: string };
}

/** The data directory of a `pglite://<absolute path>` url (percent-escapes decoded). */
function embeddedPath(url: string): string {
  const raw = url.replace(/^pglite:\/\//, '');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function modesOf(config: { databaseUrl: string; redisUrl?: string | undefined }): Modes {
  const embedded = config.databaseUrl.startsWith('pglite:');
  return {
    database: embedded
      ? { kind: 'embedded', where: embeddedPath(config.databaseUrl) }
      : { kind: 'server', where: hostOf(config.databaseUrl) },
    queue: config.redisUrl
      ? { kind: 'redis', where: hostOf(config.redisUrl) }
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

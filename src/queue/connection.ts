// Redis connections as production setups need them: one server or a Redis Cluster
// (SLUICE_REDIS_CLUSTER, REDIS_URL naming any one node), plain or TLS (rediss://,
// with SLUICE_REDIS_CA_FILE for a private CA), an ACL user and password in the URL.
// Producers fail fast (a CLI must say "Redis is down" and exit), workers reconnect
// forever (BullMQ's production rules: maxRetriesPerRequest null for workers).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { hostOf } from '../config.ts';
import { SluiceError } from '../errors.ts';

/** A single-server client or a cluster client: both speak the same commands. */
export type RedisClient = Redis | Cluster;

/** The settings (a Config satisfies this) that say how to reach Redis. */
export interface RedisSettings {
  redisUrl: string;
  redisCluster: boolean;
  redisCaFile?: string | undefined;
}

export type ConnectionKind = 'producer' | 'worker';

const retryFor = (kind: ConnectionKind) =>
  kind === 'worker' ? (n: number) => Math.min(200 * 2 ** n, 5000) : (n: number) => (n > 2 ? null : 200 * n);

export function redisOptions(kind: ConnectionKind): RedisOptions {
  return kind === 'worker'
    ? { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: retryFor(kind) }
    : { maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: retryFor(kind) };
}

/** Host, port, ACL user, password, database and TLS of one node, from REDIS_URL. */
export function nodeOptions(settings: RedisSettings): RedisOptions {
  const u = new URL(settings.redisUrl);
  // Query parameters are ioredis options, as ioredis reads them from a URL (e.g. ?family=6).
  const query = Object.fromEntries([...u.searchParams].map(([k, v]) => [k, k === 'family' ? Number(v) : v]));
  const opts: RedisOptions = {
    ...query,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
  };
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db) opts.db = Number(db);
  if (u.protocol === 'rediss:') opts.tls = tlsOptions(settings.redisCaFile);
  else if (settings.redisCaFile) {
    throw new SluiceError(
      'CONFIG_ERROR',
      'SLUICE_REDIS_CA_FILE is set but REDIS_URL is not rediss://; use rediss:// to connect over TLS',
    );
  }
  return opts;
}

function tlsOptions(caFile: string | undefined): ConnectionOptions {
  if (!caFile) return {};
  try {
    return { ca: readFileSync(caFile) };
  } catch (err) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `cannot read SLUICE_REDIS_CA_FILE ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; give the PEM file of the CA that signed the Redis certificate`,
      { cause: err },
    );
  }
}

/** A client, not yet connected. */
export function createRedisClient(settings: RedisSettings, kind: ConnectionKind): RedisClient {
  const node = nodeOptions(settings);
  if (!settings.redisCluster) return new Redis({ ...node, ...redisOptions(kind), lazyConnect: true });
  const { host, port, db, ...perNode } = node;
  if (db) {
    throw new SluiceError(
      'CONFIG_ERROR',
      `a Redis Cluster has only database 0; remove "/${db}" from REDIS_URL (or unset SLUICE_REDIS_CLUSTER)`,
    );
  }
  const options: ClusterOptions = {
    lazyConnect: true,
    enableReadyCheck: true,
    clusterRetryStrategy: retryFor(kind),
    redisOptions: { ...perNode, ...redisOptions(kind) },
  };
  // ioredis resolves startup hostnames to IPs, which a TLS certificate for the name would
  // not match: keep names as given (the managed-cluster setting ioredis documents).
  if (perNode.tls) options.dnsLookup = (address, callback) => callback(null, address);
  return new Cluster([{ host: host ?? '127.0.0.1', port: port ?? 6379 }], options);
}

/** Opens a Redis connection and proves it answers; CONNECTION_ERROR naming the host, or CONFIG_ERROR for refused credentials. */
export async function connectRedis(settings: RedisSettings, kind: ConnectionKind): Promise<RedisClient> {
  const redis = createRedisClient(settings, kind);
  // Surfaced through command failures instead; the last one says why a connect failed
  // (an untrusted certificate) where the rejection only says "Connection is closed".
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const refused = [lastError, err as Error].find((e) => e && AUTH_REFUSED.test(e.message));
    if (refused) throw redisAuthError(settings.redisUrl, refused);
    const generic = /Connection is closed|None of startup nodes/.test((err as Error).message);
    const reason = ((generic && lastError) || (err as Error)).message.replace(/\.+$/, '');
    const what = settings.redisCluster ? 'the Redis Cluster node' : 'Redis';
    const check = settings.redisUrl.startsWith('rediss:') ? 'REDIS_URL, SLUICE_REDIS_CA_FILE' : 'REDIS_URL';
    throw new SluiceError(
      'CONNECTION_ERROR',
      `cannot reach ${what} at ${hostOf(settings.redisUrl)}: ${reason}. Check ${check} and that the server is running.`,
      { cause: err },
    );
  }
}

// Redis' replies to a refused AUTH (or to a command sent without one).
const AUTH_REFUSED = /\b(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i;

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

/** A second connection like `redis` for a blocking BullMQ worker (retries forever; the caller closes it). */
export function duplicateForWorker(redis: RedisClient): RedisClient {
  if (redis instanceof Cluster) {
    return redis.duplicate([], {
      redisOptions: { ...redis.options.redisOptions, maxRetriesPerRequest: null },
    });
  }
  return redis.duplicate({ maxRetriesPerRequest: null });
}

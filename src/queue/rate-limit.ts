// A rate limit shared by every process on every machine: requests/window and
// tokens/window for one provider+model, kept in Redis as a sliding log of
// admitted requests. A Lua script checks and records atomically using Redis's
// own clock, so machines with skewed clocks still agree. Denied callers are told
// how long until enough budget frees and sleep exactly that long (no spinning).
import { Redis } from 'ioredis';
import type { RedisClient } from './connection.ts';
import { limiterOnStore, logWindowMs, type RateLimitStore } from './rate-limit-store.ts';

export interface RateLimiterOptions {
  /** An ioredis client (not closed by the limiter) or a redis:// URL (owned and closed). */
  redis: RedisClient | string;
  /** Key namespace, normally the queue prefix (default sluice). */
  prefix?: string;
  /** Budget identity, e.g. `openai:text-embedding-3-small`. */
  key: string;
  /** Requests per window (undefined: unlimited). */
  requestsPerWindow?: number | undefined;
  /** Tokens per window (undefined: unlimited). */
  tokensPerWindow?: number | undefined;
  /** Window length (default 60,000 ms: the provider's "per minute"). */
  windowMs?: number;
  /**
   * Extra time an admitted request stays in the log, so network jitter between
   * admission here and arrival at the provider cannot push two windows' worth
   * into one of theirs (default 0.5% of the window, at least 100 ms).
   */
  marginMs?: number;
}

/** Cost of one acquisition. */
export interface RateCost {
  requests?: number;
  tokens?: number;
}

export interface RatePermit {
  settle(): Promise<void>;
}

export interface RateLimiter {
  readonly limits: { requests?: number | undefined; tokens?: number | undefined; windowMs: number };
  /**
   * Waits until the shared budget admits `cost`, then records it. Call the
   * permit's settle() when the response arrives: the provider counts the request
   * when it arrives, which can be well after admission (cold sockets, pauses), so
   * the entry is re-stamped then and the window is measured from the later time.
   */
  acquire(cost: RateCost, signal?: AbortSignal): Promise<RatePermit>;
  /** After a 429: nobody sharing this budget is admitted for `retryAfterSec`. */
  penalise(retryAfterSec: number): Promise<void>;
  /** Times acquire had to wait, and for how long in total. */
  stats(): { waits: number; waitedMs: number };
  close(): Promise<void>;
}

// Returns 0 when admitted, else milliseconds until it could be. Members are
// "<id>:<requests>:<tokens>" so one sorted set carries both budgets.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, maxR, maxT = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cR, cT = tonumber(ARGV[4]), tonumber(ARGV[5])
local pen = tonumber(redis.call('GET', KEYS[2]) or '0')
if pen > now then return pen - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local e = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local r, k = 0, 0
for i = 1, #e, 2 do
  local a, b = string.match(e[i], ':(%d+):(%d+)$')
  r = r + tonumber(a); k = k + tonumber(b)
end
if (maxR == 0 or r + cR <= maxR) and (maxT == 0 or k + cT <= maxT) then
  redis.call('ZADD', KEYS[1], now, ARGV[6] .. ':' .. cR .. ':' .. cT)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return 0
end
local fr, fk = 0, 0
for i = 1, #e, 2 do
  local a, b = string.match(e[i], ':(%d+):(%d+)$')
  fr = fr + tonumber(a); fk = fk + tonumber(b)
  if (maxR == 0 or r - fr + cR <= maxR) and (maxT == 0 or k - fk + cT <= maxT) then
    return math.max(1, tonumber(e[i + 1]) + window - now)
  end
end
return window
`;

// Extends (never shortens) the shared penalty deadline.
const PENALISE = `
local t = redis.call('TIME')
local untilMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[1]) or '0') < untilMs then
  redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000)
end
return 0
`;

// Moves an admitted entry to now, if it is still in the log.
const SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
end
return 0
`;

interface LimiterCommands {
  sluiceRlAcquire(log: string, penalty: string, ...args: Array<string | number>): Promise<number>;
  sluiceRlPenalise(penalty: string, ms: number): Promise<number>;
  sluiceRlSettle(log: string, member: string, windowMs: number): Promise<number>;
}

/** Creates a Redis-backed limiter; all instances with the same prefix+key share one budget. */
export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const owned = typeof opts.redis === 'string';
  const redis =
    typeof opts.redis === 'string' ? new Redis(opts.redis, { maxRetriesPerRequest: 3 }) : opts.redis;
  redis.defineCommand('sluiceRlAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand('sluiceRlPenalise', { numberOfKeys: 1, lua: PENALISE });
  redis.defineCommand('sluiceRlSettle', { numberOfKeys: 1, lua: SETTLE });
  const cmd = redis as unknown as LimiterCommands;
  const windowMs = opts.windowMs ?? 60_000;
  const logWindow = logWindowMs(windowMs, opts.marginMs);
  // Both keys hash to one Redis Cluster slot, as Lua requires: by the prefix's {tag} when
  // it has one (a cluster prefix must), else by the {key} tag.
  const base = `${opts.prefix ?? 'sluice'}:ratelimit:{${opts.key}}`;
  const logKey = `${base}:log`;
  const penaltyKey = `${base}:penalty`;
  const maxR = opts.requestsPerWindow ?? 0;
  const maxT = opts.tokensPerWindow ?? 0;
  const store: RateLimitStore = {
    async tryAcquire(id, r, t) {
      return Number(await cmd.sluiceRlAcquire(logKey, penaltyKey, logWindow, maxR, maxT, r, t, id));
    },
    async settle(id, r, t) {
      await cmd.sluiceRlSettle(logKey, `${id}:${r}:${t}`, logWindow);
    },
    async penalise(ms) {
      await cmd.sluiceRlPenalise(penaltyKey, ms);
    },
    async close() {
      if (owned) await redis.quit();
    },
  };
  return limiterOnStore(store, { ...opts, windowMs });
}

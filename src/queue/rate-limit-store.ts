// The waiting side of the shared rate limiter, the same whichever store keeps the
// budget (Redis, Postgres): refuse costs that can never fit, ask the store, and
// when it says "not yet, wait N ms", sleep exactly that long (no spinning) with a
// little jitter so waiters released together do not stampede.
import { setTimeout as sleep } from 'node:timers/promises';
import { SluiceError } from '../errors.ts';
import type { RateLimiter } from './rate-limit.ts';

/** Where a budget is kept; every method is atomic in the store. */
export interface RateLimitStore {
  /** Records the cost under `id` and returns 0 when admitted, else ms until it could be. */
  tryAcquire(id: string, requests: number, tokens: number): Promise<number>;
  /** Moves an admitted entry's time to now, if it is still in the window. */
  settle(id: string, requests: number, tokens: number): Promise<void>;
  /** Admits nobody for `ms` (never shortens a longer penalty). */
  penalise(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimits {
  requestsPerWindow?: number | undefined;
  tokensPerWindow?: number | undefined;
  windowMs: number;
}

let seq = 0;

/** A RateLimiter over a store; all limiters on one store key share one budget. */
export function limiterOnStore(store: RateLimitStore, limits: RateLimits): RateLimiter {
  const maxR = limits.requestsPerWindow ?? 0;
  const maxT = limits.tokensPerWindow ?? 0;
  const windowMs = limits.windowMs;
  const instance = `${process.pid}.${Date.now().toString(36)}.${seq++}`;
  let counter = 0;
  let waits = 0;
  let waitedMs = 0;

  return {
    limits: { requests: limits.requestsPerWindow, tokens: limits.tokensPerWindow, windowMs },
    async acquire(cost, signal) {
      const r = Math.max(0, Math.ceil(cost.requests ?? 1));
      const t = Math.max(0, Math.ceil(cost.tokens ?? 0));
      if ((maxT > 0 && t > maxT) || (maxR > 0 && r > maxR)) {
        throw new SluiceError(
          'CONFIG_ERROR',
          `a request of ${t} tokens can never fit the rate limit of ${maxT} tokens per ${windowMs} ms; ` +
            'raise the limit or send smaller batches',
        );
      }
      for (;;) {
        signal?.throwIfAborted();
        const id = `${instance}.${counter++}`;
        const wait = await store.tryAcquire(id, r, t);
        if (wait <= 0) return { settle: () => store.settle(id, r, t) };
        waits++;
        // Up to 5% jitter (≤ 50 ms) so waiters released together do not stampede.
        const ms = wait + Math.random() * Math.min(50, wait * 0.05);
        waitedMs += ms;
        await sleep(ms, undefined, signal ? { signal } : undefined);
      }
    },
    penalise: (retryAfterSec) => store.penalise(Math.max(1, Math.round(retryAfterSec * 1000))),
    stats: () => ({ waits, waitedMs: Math.round(waitedMs) }),
    close: () => store.close(),
  };
}

/**
 * How long an admitted request stays in the log: the window plus a margin, so
 * network jitter between admission here and arrival at the provider cannot push
 * two windows' worth into one of theirs (default 0.5% of the window, ≥ 100 ms).
 */
export function logWindowMs(windowMs: number, marginMs?: number): number {
  return windowMs + (marginMs ?? Math.max(100, Math.round(windowMs * 0.005)));
}

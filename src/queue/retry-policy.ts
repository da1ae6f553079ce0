// The one retry policy: how many tries a transient failure gets and how long
// between them. Used by the worker wrapper for BullMQ jobs and by the embed service
// for provider requests; a failure is retried at one level only, so tries never multiply.

/** How often and how patiently a transient failure is tried (SLUICE_ATTEMPTS, SLUICE_BACKOFF_MS). */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the next try after `triesMade` failed ones. */
  delayMs(triesMade: number, err?: unknown): number;
}

export function retryPolicy(settings: { attempts: number; backoffMs: number }): RetryPolicy {
  return {
    attempts: settings.attempts,
    delayMs: (triesMade, err) => backoffDelay(triesMade, settings.backoffMs, err),
  };
}

/**
 * Backoff: exponential with full jitter, never sooner than the provider's Retry-After.
 * Whole milliseconds: BullMQ's PostgreSQL queue stores the retry time as a bigint
 * and refuses a fraction (the retry then fails and the job stalls instead).
 */
export function backoffDelay(attemptsMade: number, baseMs: number, err?: unknown): number {
  const exp = baseMs * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exp / 2 + Math.random() * (exp / 2);
  const retryAfter = (err as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
  return Math.ceil(Math.max(jittered, typeof retryAfter === 'number' ? retryAfter * 1000 : 0));
}

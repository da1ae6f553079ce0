// The one path from embed jobs to the provider. Many jobs embed at once in a
// worker; instead of one small request each, their texts are pooled and packed
// into full requests (inputs and tokens per request), results routed back to
// each caller. Rate limits, 429s, 5xx and configuration errors are handled here
// once, so a job sees either its vectors or one meaningful error. A 5xx or network
// failure is retried here under the one retry policy (retry.ts); once that is spent
// the error is final for the jobs too, so tries never multiply.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Embedder, FittedInput } from '../embedders/types.ts';
import { errorCodeOf, isRetryable, messageOf, SluiceError } from '../errors.ts';
import type { RateLimiter } from './rate-limit.ts';
import { type RetryPolicy, retryPolicy } from './retry-policy.ts';

export interface EmbedServiceOptions {
  embedder: Embedder;
  /** Shared budget (see rate-limit.ts); without it only the provider's 429s pace us. */
  limiter?: RateLimiter | undefined;
  /**
   * Tries of a request that fails with a 5xx or network error, and the backoff
   * between them (default 6 tries from 500 ms). 429s never count. Once spent, callers
   * get the error marked not retryable: their jobs must not try again.
   */
  retry?: RetryPolicy;
  /** How long a partial batch waits for more texts before it is sent when no request is out (default 25 ms). */
  lingerMs?: number;
  /**
   * How long a partial batch may wait while another request is out (default 1 s). Texts that
   * arrive during a request gather into the next one instead of going as many small requests.
   */
  maxLingerMs?: number;
  /** Concurrent requests per process (default 4). */
  maxInFlight?: number;
  /** A tighter token cap per request than the embedder's own. */
  maxBatchTokens?: number;
  /** First delay after a 429 without Retry-After; doubles per 429 with full jitter (default 500 ms, capped at 30 s). */
  backoffMs?: number;
  /** A batch deferred by 429s longer than this fails with RATE_LIMITED, to be retried by the job (default 10 min). */
  maxRateLimitWaitMs?: number;
  /**
   * After a configuration error (bad key, unknown model), callers in this window
   * get the same error without a request being sent (default 0: the next call probes).
   */
  configErrorHoldMs?: number;
}

export interface EmbedService {
  /**
   * Embeds texts in order; may share requests with concurrent callers. `tokens`,
   * when given, are counts already made with the embedder's own tokenizer (the
   * chunker's), so texts are not tokenised a second time on this thread.
   */
  embedMany(texts: string[], signal?: AbortSignal, tokens?: readonly number[]): Promise<Float32Array[]>;
  stats(): EmbedStats;
  /** Sends what is queued at once, waits for it, then refuses new work. */
  close(): Promise<void>;
}

/**
 * Counters for `sluice status` and the benchmark. `retries`: re-sent after 5xx or
 * network errors; `rateLimited`: 429 answers, deferred and never counted as attempts.
 */
const ZERO_STATS = {
  requests: 0,
  inputs: 0,
  tokens: 0,
  retries: 0,
  rateLimited: 0,
  failedRequests: 0,
  configErrors: 0,
  pendingInputs: 0,
  inFlight: 0,
};
export type EmbedStats = typeof ZERO_STATS & { lastError?: string };

interface Call {
  out: Float32Array[];
  left: number;
  done: boolean;
  resolve(v: Float32Array[]): void;
  reject(e: unknown): void;
}

interface Item extends FittedInput {
  call: Call;
  index: number;
  at: number;
}

/** Creates the per-process batching service around one embedder. */
export function createEmbedService(opts: EmbedServiceOptions): EmbedService {
  const { embedder, limiter } = opts;
  const retry = opts.retry ?? retryPolicy({ attempts: 6, backoffMs: 500 });
  const lingerMs = opts.lingerMs ?? 25;
  const maxLingerMs = Math.max(lingerMs, opts.maxLingerMs ?? 1000);
  const maxInFlight = opts.maxInFlight ?? 4;
  const backoffMs = opts.backoffMs ?? 500;
  const maxDeferMs = opts.maxRateLimitWaitMs ?? 600_000;
  const budget = limiter?.limits.tokens;
  // Largest single input any request can carry.
  const itemCap = Math.min(
    embedder.maxBatchTokens ?? Infinity,
    opts.maxBatchTokens ?? Infinity,
    budget ?? Infinity,
  );
  // Under a token budget, requests of ~1/20 of it keep the window ≥95% full;
  // one request of nearly the whole budget would leave most of a window idle.
  const slices = Math.min(20, limiter?.limits.requests ?? 20);
  const sliceCap = budget === undefined ? Infinity : Math.ceil(budget / slices);
  const tokenCap = Math.min(itemCap, sliceCap);
  const maxBatch = Math.max(1, embedder.maxBatch);
  const s: EmbedStats = { ...ZERO_STATS };
  let queue: Item[] = [];
  let queuedTokens = 0;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = 0;
  let closing = false;
  let pausedUntil = 0; // process-wide pause after a 429, for callers without a shared limiter
  let held: { err: unknown; until: number } | undefined; // last configuration error, see configErrorHoldMs
  let idle: (() => void) | undefined;

  const fail = (call: Call, err: unknown) => {
    if (call.done) return;
    call.done = true;
    call.reject(err);
    queue = queue.filter((i) => i.call !== call);
    queuedTokens = queue.reduce((n, i) => n + i.tokens, 0);
  };
  const deliver = (item: Item, vector: Float32Array) => {
    const call = item.call;
    if (call.done) return;
    call.out[item.index] = vector;
    if (--call.left === 0) {
      call.done = true;
      call.resolve(call.out);
    }
  };

  // First fit over the whole queue: the oldest item always leads, so nothing
  // starves, and smaller later items fill the space a large one leaves.
  const take = (): Item[] => {
    const batch: Item[] = [];
    const rest: Item[] = [];
    let tokens = 0;
    for (const item of queue) {
      // The oldest item always goes, even if larger than a budget slice (itemCap bounds it).
      if (batch.length === 0 || (batch.length < maxBatch && tokens + item.tokens <= tokenCap)) {
        batch.push(item);
        tokens += item.tokens;
      } else rest.push(item);
    }
    queue = rest;
    queuedTokens -= tokens;
    return batch;
  };
  // A full batch goes at once (up to maxInFlight); a partial one only when no request is
  // out, or once it has waited maxLingerMs: the pipe stays busy, and requests grow with the
  // rate texts arrive at instead of one small request per caller.
  const lingerFor = () => (inFlight === 0 ? lingerMs : maxLingerMs);
  const schedule = () => {
    while (inFlight < maxInFlight && queue.length > 0) {
      const full = queue.length >= maxBatch || queuedTokens >= tokenCap;
      const due = closing || Date.now() - queue[0]!.at >= lingerFor();
      if (!full && !due) break;
      const batch = take();
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        schedule();
      });
    }
    if (queue.length > 0 && inFlight < maxInFlight) {
      // The deadline shortens when the last request returns: move the timer up.
      const dueAt = queue[0]!.at + lingerFor();
      if (timer === undefined || dueAt < timerAt) {
        clearTimeout(timer);
        timerAt = dueAt;
        timer = setTimeout(
          () => {
            timer = undefined;
            schedule();
          },
          Math.max(0, dueAt - Date.now()),
        );
      }
    }
    if (queue.length === 0 && inFlight === 0) idle?.();
  };
  const backoff = (n: number, retryAfterSec?: number) => {
    const exp = Math.random() * Math.min(30_000, backoffMs * 2 ** n);
    return Math.max(exp, (retryAfterSec ?? 0) * 1000 + Math.random() * 250);
  };
  const failAll = (items: Item[], err: unknown): void => {
    s.lastError = messageOf(err);
    for (const i of items) fail(i.call, err);
  };

  async function run(items: Item[]): Promise<void> {
    let attempts = 0;
    let limited = 0;
    let deferredMs = 0;
    for (;;) {
      const live = items.filter((i) => !i.call.done);
      if (live.length === 0) return;
      const tokens = live.reduce((n, i) => n + i.tokens, 0);
      try {
        if (pausedUntil > Date.now()) await sleep(pausedUntil - Date.now());
        const permit = await limiter?.acquire({ requests: 1, tokens });
        s.requests++;
        s.inputs += live.length;
        s.tokens += tokens;
        const vectors = await embedder
          .embed(live.map((i) => i.text))
          .finally(() => permit?.settle().catch(() => undefined));
        for (const [k, item] of live.entries()) deliver(item, vectors[k]!);
        return;
      } catch (err) {
        const code = errorCodeOf(err);
        const retryAfter = (err as { retryAfterSec?: number }).retryAfterSec;
        if (code === 'RATE_LIMITED') {
          s.rateLimited++;
          const ms = backoff(limited++, retryAfter);
          deferredMs += ms;
          if (deferredMs > maxDeferMs) return failAll(live, err);
          pausedUntil = Math.max(pausedUntil, Date.now() + ms);
          await limiter?.penalise(ms / 1000).catch(() => undefined);
          continue;
        }
        if (code === 'INPUT_TOO_LONG' && live.length > 1) {
          // The provider refused one input we could not measure exactly: bisect to find it.
          const half = Math.ceil(live.length / 2);
          await run(live.slice(0, half));
          await run(live.slice(half));
          return;
        }
        if (code === 'CONFIG_ERROR') {
          // Every queued text would get the same answer: fail them all now, with one request spent.
          s.configErrors++;
          if (opts.configErrorHoldMs) held = { err, until: Date.now() + opts.configErrorHoldMs };
          return failAll([...live, ...queue], err);
        }
        if (!isRetryable(err)) {
          s.failedRequests++;
          return failAll(live, err);
        }
        if (++attempts < retry.attempts) {
          s.retries++;
          await sleep(retry.delayMs(attempts, err));
          continue;
        }
        s.failedRequests++;
        return failAll(live, spent(err, attempts));
      }
    }
  }

  return {
    async embedMany(texts, signal, tokens) {
      if (closing) throw new SluiceError('INTERNAL', 'the embed service is closed');
      if (texts.length === 0) return [];
      signal?.throwIfAborted();
      if (held && Date.now() < held.until) throw held.err;
      const inputCap = embedder.maxInputTokens ?? Number.POSITIVE_INFINITY;
      const fitted = texts.map((t, i) => {
        const known = tokens?.[i];
        if (known !== undefined && known <= inputCap) return { text: t, tokens: known };
        return embedder.fitInput?.(t) ?? { text: t, tokens: embedder.countTokens(t) };
      });
      const big = fitted.find((f) => f.tokens > itemCap)?.tokens;
      const limit = `the ${itemCap}-token request limit of ${embedder.id} "${embedder.model}"`;
      if (big) throw new SluiceError('INPUT_TOO_LONG', `an input of ${big} tokens exceeds ${limit}`);
      return new Promise<Float32Array[]>((resolve, reject) => {
        const call: Call = { out: new Array(texts.length), left: texts.length, done: false, resolve, reject };
        const at = Date.now();
        fitted.forEach((f, index) => {
          queue.push({ ...f, call, index, at });
          queuedTokens += f.tokens;
        });
        signal?.addEventListener('abort', () => fail(call, signal.reason), { once: true });
        schedule();
      });
    },
    stats: () => ({ ...s, pendingInputs: queue.length, inFlight }),
    async close() {
      closing = true;
      clearTimeout(timer);
      await new Promise<void>((resolve) => {
        idle = resolve;
        schedule();
      });
    },
  };
}

/** The error once the retry policy is spent on it: same code, final for the job. */
function spent(err: unknown, tries: number): SluiceError {
  const message = `${messageOf(err).replace(/\.+$/, '')} (tried ${tries} times)`;
  return new SluiceError(errorCodeOf(err), message, { retryable: false, cause: err });
}
